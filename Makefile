# Kontor: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export KONTOR_HOME := $(CURDIR)
KONTOR_PG_PORT ?= 55432
export KONTOR_PG_PORT
KONTOR_PORT ?= 7411
SWIFT ?= swift
SWIFT_FLAGS ?=
PG := deploy/pg.sh
BIN := .build/debug
DB_URL := host=$(CURDIR)/var/pg/run port=$(KONTOR_PG_PORT) dbname=kontor user=kontor
# The demo team (seeds/staff.json): passwords as seeded; one changed since stays changed.
DEMO_ADMIN_LOGIN ?= admin
DEMO_ADMIN_PASSWORD ?= kontor-admin
DEMO_TECH_LOGIN ?= tech
DEMO_TECH_PASSWORD ?= kontor-tech
DEMO_PASSWORD ?= kontor-demo
DEMO_TOKEN_FILE := var/demo/robot.token
SEED := KONTOR_SEED_ADMIN_PASSWORD="$(DEMO_ADMIN_PASSWORD)" KONTOR_SEED_TECH_PASSWORD="$(DEMO_TECH_PASSWORD)" \
	KONTOR_SEED_PASSWORD="$(DEMO_PASSWORD)" $(BIN)/kontor-seed --server 127.0.0.1:$(KONTOR_PORT) \
	--admin "$(DEMO_ADMIN_LOGIN)" --tech "$(DEMO_TECH_LOGIN)" --token-file "$(DEMO_TOKEN_FILE)"

.PHONY: help deps build db migrate admins seed reset-demo run info start-server stop-server stop test bench clean-db

help:
	@echo "make run         install what is missing, start PostgreSQL, migrate, load the demo (into an empty database only), start kontord"
	@echo "make test        the same set-up, then the whole test suite"
	@echo "make stop        stop kontord and the local PostgreSQL"
	@echo "make seed        load the demo now (refuses a database with data)"
	@echo "make reset-demo  drop the local database, create it again and load the demo"
	@echo "make bench       benchmarks"

deps:
	@deploy/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

db: deps
	@$(PG) start

migrate: build db
	@$(BIN)/kontord migrate --database-url "$(DB_URL)"

# The first admin (the head of sales) and the tech admin: kontor-seed logs in as them.
admins: migrate
	@KONTOR_ADMIN_PASSWORD="$(DEMO_ADMIN_PASSWORD)" $(BIN)/kontord user add-admin --if-missing \
		--database-url "$(DB_URL)" --login "$(DEMO_ADMIN_LOGIN)" --name "Ярослава Мельник"
	@KONTOR_ADMIN_PASSWORD="$(DEMO_TECH_PASSWORD)" $(BIN)/kontord user add-admin --if-missing --role tech_admin \
		--database-url "$(DB_URL)" --login "$(DEMO_TECH_LOGIN)" --name "Денис Ткачук"

# Loads the demo through the running kontord; exit status 3 = the database has data.
seed: admins start-server
	@$(SEED)

# make run: the demo goes into an empty database only; a database with data is left as
# it is (kontor-seed says why) and kontord serves it all the same.
run: admins start-server
	@rc=0; $(SEED) || rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "(the demo is loaded into an empty database only; make reset-demo starts from scratch)"; \
	elif [ $$rc -ne 0 ]; then echo "kontor-seed failed (exit status $$rc); see above"; exit $$rc; fi
	@$(MAKE) --no-print-directory info

reset-demo: build db stop-server
	@$(PG) reset-db
	@rm -f "$(DEMO_TOKEN_FILE)"
	@$(MAKE) --no-print-directory run

info:
	@echo
	@echo "kontord is running on 127.0.0.1:$(KONTOR_PORT) (log: var/kontord.log, stop: make stop)"
	@echo "Demo logins (as seeded; a password changed since stays changed):"
	@echo "  head of sales (admin)  $(DEMO_ADMIN_LOGIN) / $(DEMO_ADMIN_PASSWORD)"
	@echo "  tech admin             $(DEMO_TECH_LOGIN) / $(DEMO_TECH_PASSWORD)"
	@echo "  manager, Development   olena / $(DEMO_PASSWORD)   (also taras, iryna)"
	@echo "  manager, Service       mykola / $(DEMO_PASSWORD)  (also oksana, andrii)"
	@echo "  robot token            $(DEMO_TOKEN_FILE)$$( [ -s $(DEMO_TOKEN_FILE) ] || echo ' (written by the seeding that made this database; not here)')"
	@echo "Try (the client goes to KONTOR_SERVER, else the server of its saved session, else 127.0.0.1:7411):"
	@echo "  export PATH=\"$(CURDIR)/$(BIN):\$$PATH\" KONTOR_SERVER=127.0.0.1:$(KONTOR_PORT)"
	@echo "  kontor login olena             then   kontor   (the REPL; help explains)"
	@echo "  docs/QUICKSTART.md             a ten-minute tour of the demo"
	@echo "  plain TCP:  printf '%s\n' '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}' | nc -q1 127.0.0.1 $(KONTOR_PORT)"
	@echo "  database:   psql \"$(DB_URL)\""

start-server:
	@mkdir -p var
	@if [ -f var/kontord.pid ] && kill -0 $$(cat var/kontord.pid) 2>/dev/null; then \
		echo "restarting kontord (pid $$(cat var/kontord.pid))"; kill $$(cat var/kontord.pid); \
		for i in $$(seq 1 50); do kill -0 $$(cat var/kontord.pid) 2>/dev/null || break; sleep 0.1; done; \
	fi
	@rm -f var/kontord.port
	@nohup $(BIN)/kontord serve --database-url "$(DB_URL)" --port $(KONTOR_PORT) --port-file var/kontord.port \
		>> var/kontord.log 2>&1 & echo $$! > var/kontord.pid
	@for i in $$(seq 1 100); do [ -s var/kontord.port ] && break; \
		kill -0 $$(cat var/kontord.pid) 2>/dev/null || { echo "kontord failed to start; see var/kontord.log"; tail -20 var/kontord.log; exit 1; }; \
		sleep 0.1; done; [ -s var/kontord.port ] || { echo "kontord did not start listening; see var/kontord.log"; exit 1; }

stop-server:
	@if [ -f var/kontord.pid ] && kill -0 $$(cat var/kontord.pid) 2>/dev/null; then \
		kill $$(cat var/kontord.pid); \
		for i in $$(seq 1 150); do kill -0 $$(cat var/kontord.pid) 2>/dev/null || break; sleep 0.1; done; \
		echo "kontord stopped"; fi; rm -f var/kontord.pid var/kontord.port

stop: stop-server
	@$(PG) stop

test: deps db
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	KONTOR_TEST_PG="host=$(CURDIR)/var/pg/run port=$(KONTOR_PG_PORT) user=kontor" \
		$(SWIFT) test --skip-build $(SWIFT_FLAGS) $(TEST_FLAGS)

bench: deps db
	$(SWIFT) build -c release $(SWIFT_FLAGS) --product kontord
	$(SWIFT) build -c release $(SWIFT_FLAGS) --product kontor-bench
	deploy/bench.sh

clean-db: stop
	@$(PG) destroy
