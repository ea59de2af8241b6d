/*
 * progress.c - the progress line of long work (--progress): on standard
 * error, drawn only on a terminal and at most ten times a second.  The
 * engine only counts the bytes done, through struct mm_progress; what is
 * drawn, and when, is decided here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"

static void
human(double v, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", v);
	else
		snprintf(buf, len, "%.1f %ciB", v, units[u]);
}

static void
draw(struct app_progress *p, double t)
{
	char done[32], rate[32], line[160], eta[32] = "--:--";
	double el = t - p->start, r = el > 0 ? (double)p->done / el : 0;
	double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 100;
	int n;

	human((double)p->done, done, sizeof(done));
	human(r, rate, sizeof(rate));
	if (r > 0 && p->total >= p->done) {
		double left = (double)(p->total - p->done) / r;

		snprintf(eta, sizeof(eta), "%02d:%02d",
		    (int)(left / 60) % 100, (int)left % 60);
	}
	n = snprintf(line, sizeof(line), "\r%s: %s  %5.1f%%  %s/s  %s left ",
	    p->label, done, pct, rate, eta);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ?
	    (size_t)n : sizeof(line) - 1) > 0)
		p->drawn = 1;
	p->last = t;
}

/* The engine's report of the bytes done: drawn if 0.1 s have passed. */
static void
update(void *arg, uint64_t done)
{
	struct app_progress *p = arg;
	double t;

	p->done = done;
	t = mm_now();
	if (t - p->last >= 0.1)
		draw(p, t);
}

void
app_progress_start(struct app_progress *p, int enable, const char *label,
    uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->active = enable && isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
	p->start = p->last = mm_now();
	/* Inactive, the engine is given no function to call at all. */
	if (p->active) {
		p->mm.update = update;
		p->mm.arg = p;
	}
}

void
app_progress_end(struct app_progress *p)
{
	if (!p->active)
		return;
	if (p->drawn) {
		p->done = p->total;
		draw(p, mm_now());
		if (write(STDERR_FILENO, "\n", 1) < 0)
			p->drawn = 0;
	}
	p->active = 0;
	p->mm.update = NULL;
}
