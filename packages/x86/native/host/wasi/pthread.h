/* The pthread calls QuickJS's Atomics.wait/notify make, for the single-threaded wasm32 compiler
 * (uos-jsc.wasm): wasi-libc has no pthreads. QuickJS must still be built with CONFIG_ATOMICS, as the image's
 * engine is, because it changes the predefined atoms and so the bytecode. A compiler never runs Atomics. */
#ifndef UOS_WASI_PTHREAD_H
#define UOS_WASI_PTHREAD_H
#include <errno.h>
#include <time.h>

typedef struct { int unused; } pthread_mutex_t;
typedef struct { int unused; } pthread_cond_t;
typedef struct { int unused; } pthread_condattr_t;
#define PTHREAD_MUTEX_INITIALIZER { 0 }

static inline int pthread_mutex_lock(pthread_mutex_t *mutex) { (void)mutex; return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *mutex) { (void)mutex; return 0; }
static inline int pthread_cond_init(pthread_cond_t *cond, const pthread_condattr_t *attr) { (void)cond; (void)attr; return 0; }
static inline int pthread_cond_destroy(pthread_cond_t *cond) { (void)cond; return 0; }
static inline int pthread_cond_signal(pthread_cond_t *cond) { (void)cond; return 0; }
static inline int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex) { (void)cond; (void)mutex; return EINVAL; }
static inline int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *deadline) {
  (void)cond; (void)mutex; (void)deadline;
  return ETIMEDOUT;
}
#endif
