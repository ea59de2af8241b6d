/*
 * progress.c - one progress line on standard error for long work, drawn
 * only on a terminal and at most ten times a second.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mm.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
draw(struct mm_progress *p, double t)
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
	if (n > 0 && write(p->fd, line, (size_t)n < sizeof(line) ?
	    (size_t)n : sizeof(line) - 1) > 0)
		p->drawn = 1;
	p->last = t;
}

void
mm_progress_start(struct mm_progress *p, int enable, int fd,
    const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->active = enable && isatty(fd);
	p->fd = fd;
	p->label = label;
	p->total = total;
	p->start = p->last = now();
}

void
mm_progress_update(struct mm_progress *p, uint64_t done)
{
	double t;

	if (p == NULL || !p->active)
		return;
	p->done = done;
	t = now();
	if (t - p->last >= 0.1)
		draw(p, t);
}

void
mm_progress_end(struct mm_progress *p)
{
	if (p == NULL || !p->active)
		return;
	if (p->drawn) {
		p->done = p->total;
		draw(p, now());
		if (write(p->fd, "\n", 1) < 0)
			p->drawn = 0;
	}
	p->active = 0;
}
