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
DEMO_ADMIN_LOGIN ?= admin
DEMO_ADMIN_PASSWORD ?= kontor-admin

.PHONY: help deps build db migrate seed run start-server stop test bench clean-db

help:
	@echo "make run    install what is missing, start PostgreSQL, migrate, seed the demo, start kontord"
	@echo "make test   the same set-up, then the whole test suite"
	@echo "make stop   stop kontord and the local PostgreSQL"
	@echo "make bench  benchmarks"

deps:
	@deploy/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

db: deps
	@$(PG) start

migrate: build db
	@$(BIN)/kontord migrate --database-url "$(DB_URL)"

seed: migrate
	@KONTOR_ADMIN_PASSWORD="$(DEMO_ADMIN_PASSWORD)" $(BIN)/kontord user add-admin --if-missing \
		--database-url "$(DB_URL)" --login "$(DEMO_ADMIN_LOGIN)" --name "Demo Admin"

run: seed start-server
	@echo
	@echo "kontord is running on 127.0.0.1:$(KONTOR_PORT) (log: var/kontord.log, stop: make stop)"
	@echo "  demo admin:   login $(DEMO_ADMIN_LOGIN), password $(DEMO_ADMIN_PASSWORD)"
	@echo "  CLI:          $(BIN)/kontor login $(DEMO_ADMIN_LOGIN)   then   $(BIN)/kontor call user.list"
	@echo "  plain TCP:    printf '%s\n' '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}' | nc -q1 127.0.0.1 $(KONTOR_PORT)"
	@echo "  database:     psql \"$(DB_URL)\""

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

stop:
	@if [ -f var/kontord.pid ] && kill -0 $$(cat var/kontord.pid) 2>/dev/null; then \
		kill $$(cat var/kontord.pid); echo "kontord stopped"; fi; rm -f var/kontord.pid var/kontord.port
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
