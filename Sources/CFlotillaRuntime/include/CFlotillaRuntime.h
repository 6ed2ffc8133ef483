#ifndef CFLOTILLA_RUNTIME_H
#define CFLOTILLA_RUNTIME_H
/// The C shim: only what must happen between clone and exec (see docs/architecture.md).
int flotilla_shim_version(void);
#endif
