// See include/kontor_editline.h.
#define _GNU_SOURCE
#include "kontor_editline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

// Keys the editor's reader hands to libedit for events (C1 controls nobody types).
#define KONTOR_NOTIFY_KEY ((wchar_t)0x9E)
#define KONTOR_CANCEL_KEY ((wchar_t)0x9F)

struct kontor_editor {
    EditLine *el;
    History *history;
    void *context;
    kontor_editor_fn complete;
    kontor_editor_fn notify;
    char *prompt;
    char *line;
    int in_fd;
    int pending_notify;
    int cancelled;
};

// Events for the editor: 'n' push waiting, 'i' Ctrl-C, 'w' window changed.
static int event_pipe[2] = {-1, -1};
// Ctrl-C for whoever waits outside the editor (a command, a password prompt).
static int interrupt_pipe[2] = {-1, -1};
static volatile sig_atomic_t interrupts = 0;

static void make_pipe(int p[2]) {
    if (p[0] >= 0) return;
    if (pipe(p) != 0) { p[0] = p[1] = -1; return; }
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
}

static void post(int fd, char c) {
    if (fd < 0) return;
    ssize_t r = write(fd, &c, 1);
    (void)r;
}

static void on_signal(int signo) {
    int saved = errno;
    if (signo == SIGINT) {
        interrupts++;
        post(event_pipe[1], 'i');
        post(interrupt_pipe[1], 'i');
    } else if (signo == SIGWINCH) {
        post(event_pipe[1], 'w');
    }
    errno = saved;
}

static kontor_editor *editor_of(EditLine *el) {
    void *p = NULL;
    el_get(el, EL_CLIENTDATA, &p);
    return (kontor_editor *)p;
}

static char *prompt_fn(EditLine *el) {
    kontor_editor *e = editor_of(el);
    return e && e->prompt ? e->prompt : (char *)"> ";
}

// Drains the event pipe; returns 1 if Ctrl-C was among the events.
static int take_events(kontor_editor *e) {
    char buf[64];
    int cancel = 0;
    ssize_t k;
    while ((k = read(event_pipe[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < k; i++) {
            if (buf[i] == 'n') e->pending_notify = 1;
            else if (buf[i] == 'i') cancel = 1;
            else if (buf[i] == 'w') el_resize(e->el);
        }
    }
    return cancel;
}

static int utf8_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 1;
}

static wchar_t utf8_decode(const unsigned char *b, int n) {
    if (n == 1) return b[0] < 0x80 ? (wchar_t)b[0] : (wchar_t)0xFFFD;
    unsigned int v = b[0] & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((b[i] & 0xC0) != 0x80) return (wchar_t)0xFFFD;
        v = (v << 6) | (b[i] & 0x3F);
    }
    return (wchar_t)v;
}

// libedit's key reader: waits on the terminal and on the event pipe.
static int read_key(EditLine *el, wchar_t *wc) {
    kontor_editor *e = editor_of(el);
    unsigned char buf[4];
    int have = 0, need = 1;
    for (;;) {
        if (have == 0) {
            if (take_events(e)) { *wc = KONTOR_CANCEL_KEY; return 1; }
            if (e->pending_notify) { e->pending_notify = 0; *wc = KONTOR_NOTIFY_KEY; return 1; }
        }
        struct pollfd p[2] = {{e->in_fd, POLLIN, 0}, {event_pipe[0], POLLIN, 0}};
        int r = poll(p, have == 0 ? 2 : 1, -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t k = read(e->in_fd, buf + have, 1);
        if (k == 0) return 0;
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        if (have == 0) need = utf8_length(buf[0]);
        have++;
        if (have < need) continue;
        *wc = utf8_decode(buf, have);
        return 1;
    }
}

static unsigned char complete_key(EditLine *el, int ch) {
    (void)ch;
    kontor_editor *e = editor_of(el);
    return e && e->complete ? e->complete(e->context, el) : CC_ERROR;
}

static unsigned char notify_key(EditLine *el, int ch) {
    (void)ch;
    kontor_editor *e = editor_of(el);
    return e && e->notify ? e->notify(e->context, el) : CC_NORM;
}

// Ctrl-C: show ^C at the end of the line, end the line, and mark it cancelled.
static unsigned char cancel_key(EditLine *el, int ch) {
    (void)ch;
    kontor_editor *e = editor_of(el);
    const LineInfoW *li = el_wline(el);
    el_cursor(el, (int)(li->lastchar - li->cursor));
    el_insertstr(el, "^C");
    el_push(el, "\n");
    if (e) e->cancelled = 1;
    return CC_REFRESH;
}

kontor_editor *kontor_editor_open(const char *program, void *context,
                                  kontor_editor_fn complete, kontor_editor_fn notify,
                                  int history_size) {
    make_pipe(event_pipe);
    make_pipe(interrupt_pipe);
    kontor_editor *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->context = context;
    e->complete = complete;
    e->notify = notify;
    e->in_fd = fileno(stdin);
    e->el = el_init(program, stdin, stdout, stderr);
    if (!e->el) { free(e); return NULL; }
    e->history = history_init();
    HistEvent ev;
    if (e->history) {
        history(e->history, &ev, H_SETSIZE, history_size > 0 ? history_size : 1000);
        history(e->history, &ev, H_SETUNIQUE, 1);
        el_set(e->el, EL_HIST, history, e->history);
    }
    el_set(e->el, EL_CLIENTDATA, (void *)e);
    el_set(e->el, EL_EDITOR, "emacs");
    el_set(e->el, EL_PROMPT, prompt_fn);
    el_set(e->el, EL_GETCFN, read_key);
    el_wset(e->el, EL_ADDFN, L"kontor-complete", L"Complete a method, verb or field", complete_key);
    el_wset(e->el, EL_ADDFN, L"kontor-notify", L"Show server pushes", notify_key);
    el_wset(e->el, EL_ADDFN, L"kontor-cancel", L"Cancel the line", cancel_key);
    el_wset(e->el, EL_BIND, L"^I", L"kontor-complete", NULL);
    el_wset(e->el, EL_BIND, L"\x9e", L"kontor-notify", NULL);
    el_wset(e->el, EL_BIND, L"\x9f", L"kontor-cancel", NULL);
    el_source(e->el, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns EINTR
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGWINCH, &sa, NULL);
    return e;
}

void kontor_editor_close(kontor_editor *e) {
    if (!e) return;
    signal(SIGINT, SIG_DFL);
    signal(SIGWINCH, SIG_DFL);
    if (e->el) el_end(e->el);
    if (e->history) history_end(e->history);
    free(e->prompt);
    free(e->line);
    free(e);
}

const char *kontor_editor_read(kontor_editor *e, const char *prompt, int *status) {
    free(e->prompt);
    e->prompt = strdup(prompt ? prompt : "> ");
    // A Ctrl-C pressed while no line was being edited is forgotten; pushes stay.
    (void)take_events(e);
    e->cancelled = 0;
    int count = 0;
    const char *text = el_gets(e->el, &count);
    if (e->cancelled) { *status = KONTOR_READ_CANCELLED; return NULL; }
    if (text == NULL || count <= 0) {
        *status = count < 0 ? KONTOR_READ_ERROR : KONTOR_READ_EOF;
        return NULL;
    }
    free(e->line);
    e->line = strdup(text);
    if (!e->line) { *status = KONTOR_READ_ERROR; return NULL; }
    size_t n = strlen(e->line);
    while (n > 0 && (e->line[n - 1] == '\n' || e->line[n - 1] == '\r')) e->line[--n] = '\0';
    *status = KONTOR_READ_LINE;
    return e->line;
}

void kontor_editor_wake(void) { post(event_pipe[1], 'n'); }

void kontor_editor_redraw(EditLine *el) { el_set(el, EL_REFRESH); }

int kontor_editor_history_add(kontor_editor *e, const char *line) {
    HistEvent ev;
    return e->history ? history(e->history, &ev, H_ENTER, line) : -1;
}

int kontor_editor_history_load(kontor_editor *e, const char *path) {
    HistEvent ev;
    return e->history ? history(e->history, &ev, H_LOAD, path) : -1;
}

int kontor_editor_history_save(kontor_editor *e, const char *path) {
    HistEvent ev;
    return e->history ? history(e->history, &ev, H_SAVE, path) : -1;
}

int kontor_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}

int kontor_interrupt_fd(void) {
    make_pipe(interrupt_pipe);
    return interrupt_pipe[0];
}

long kontor_interrupt_count(void) { return (long)interrupts; }

void kontor_interrupt_drain(void) {
    char buf[64];
    if (interrupt_pipe[0] < 0) return;
    while (read(interrupt_pipe[0], buf, sizeof buf) > 0) {}
}
