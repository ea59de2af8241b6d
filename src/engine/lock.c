/*
 * lock.c - what writers need so that two writers never interleave and an
 * interrupt never leaves an operation half done.
 */
#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "mm.h"

int
mm_lock(const struct mm_file *f)
{
	while (flock(f->fd, LOCK_EX) == -1) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static const int held_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NHELD	(sizeof(held_signals) / sizeof(held_signals[0]))

static struct sigaction saved[NHELD];
static volatile sig_atomic_t pending;

static void
note_signal(int sig)
{
	if (pending == 0)
		pending = sig;
}

void
mm_signals_hold(void)
{
	struct sigaction sa;
	size_t i;

	pending = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NHELD; i++)
		sigaddset(&sa.sa_mask, held_signals[i]);
	/* SA_RESTART: a held signal must not fail a write with EINTR. */
	sa.sa_flags = SA_RESTART;
	/* A signal ignored on entry (nohup, a background job) stays so. */
	for (i = 0; i < NHELD; i++) {
		sigaction(held_signals[i], NULL, &saved[i]);
		if (saved[i].sa_handler != SIG_IGN)
			sigaction(held_signals[i], &sa, NULL);
	}
}

int
mm_signals_release(void)
{
	size_t i;
	int sig;

	for (i = 0; i < NHELD; i++)
		sigaction(held_signals[i], &saved[i], NULL);
	sig = pending;
	pending = 0;
	return sig;
}

int
mm_signals_pending(void)
{
	return pending;
}
