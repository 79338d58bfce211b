// A small, non-variadic surface over libedit (Debian libedit-dev) for the kontor REPL:
// Swift cannot call el_set/history, which are variadic. The editor reads keys through
// its own function so that server pushes, Ctrl-C and window changes can wake it.
#ifndef KONTOR_EDITLINE_H
#define KONTOR_EDITLINE_H

#include <histedit.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kontor_editor kontor_editor;

/// A key's action, called on the editing thread; returns a libedit CC_* code.
typedef unsigned char (*kontor_editor_fn)(void *context, EditLine *el);

/// The CC_* codes, as plain constants for Swift.
enum {
    KONTOR_CC_NORM = CC_NORM,
    KONTOR_CC_REFRESH = CC_REFRESH,
    KONTOR_CC_REDISPLAY = CC_REDISPLAY,
    KONTOR_CC_ERROR = CC_ERROR,
    KONTOR_CC_REFRESH_BEEP = CC_REFRESH_BEEP,
};

/// Status of `kontor_editor_read`.
enum {
    KONTOR_READ_LINE = 0,
    KONTOR_READ_EOF = 1,
    KONTOR_READ_CANCELLED = 2,
    KONTOR_READ_ERROR = -1,
};

/// Opens an editor on stdin/stdout (emacs keys, ~/.editrc honoured). Tab calls
/// `complete`; `kontor_editor_wake` makes the reading editor call `notify`.
/// Installs SIGINT and SIGWINCH handlers (Ctrl-C cancels the line).
kontor_editor *kontor_editor_open(const char *program, void *context,
                                  kontor_editor_fn complete, kontor_editor_fn notify,
                                  int history_size);

void kontor_editor_close(kontor_editor *e);

/// Reads one line. Returns the line (without the newline; valid until the next call)
/// with *status KONTOR_READ_LINE, or NULL with KONTOR_READ_EOF (Ctrl-D),
/// KONTOR_READ_CANCELLED (Ctrl-C) or KONTOR_READ_ERROR.
const char *kontor_editor_read(kontor_editor *e, const char *prompt, int *status);

/// Wakes the editor to call `notify` (from any thread; async-signal-safe).
void kontor_editor_wake(void);

/// Redraws the prompt and the line from the cursor's row (after text was printed
/// above it, the cursor at the start of an empty row).
void kontor_editor_redraw(EditLine *el);

int kontor_editor_history_add(kontor_editor *e, const char *line);
int kontor_editor_history_load(kontor_editor *e, const char *path);
int kontor_editor_history_save(kontor_editor *e, const char *path);

/// Columns of the terminal on `fd`, or 0 when unknown.
int kontor_terminal_columns(int fd);

/// A descriptor that becomes readable after Ctrl-C (SIGINT) outside the editor, and
/// how many Ctrl-Cs there were so far.
int kontor_interrupt_fd(void);
long kontor_interrupt_count(void);
/// Empties the interrupt descriptor.
void kontor_interrupt_drain(void);

#ifdef __cplusplus
}
#endif

#endif
