/*
 * main.c - the multi-call binary: "mmread ..." (dispatch on the name it
 * was called by) or "mmutils read ...", "mmutils --list".
 */
#include "config.h"

#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "applet.h"

struct applet {
	const char	*name;
	const char	*help;
	int		(*main)(int, const char **);
};

static const struct applet applets[] = {
#define APPLET(name, help)	{ #name, help, name##_main },
#include "applets.def"
#undef APPLET
};
#define NAPPLETS	(sizeof(applets) / sizeof(applets[0]))

static const struct applet *
lookup(const char *name)
{
	size_t i;

	for (i = 0; i < NAPPLETS; i++)
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	return NULL;
}

static int
run(const struct applet *a, int argc, const char **argv)
{
	static char name[64];

	snprintf(name, sizeof(name), "mm%s", a->name);
	app_name = name;
	argv[0] = name;
	return a->main(argc, argv);
}

static void
list(FILE *fp, int described)
{
	size_t i;

	for (i = 0; i < NAPPLETS; i++) {
		if (described)
			fprintf(fp, "  mm%-10s %s\n", applets[i].name,
			    applets[i].help);
		else
			fprintf(fp, "%s\n", applets[i].name);
	}
}

/* The synopsis: all of --usage, the start of --help. */
static void
synopsis(void)
{
	printf("Usage: mmutils APPLET [OPTION]... [ARGUMENT]...\n"
	    "   or: mmAPPLET [OPTION]... [ARGUMENT]...\n"
	    "   or: mmutils --list | --help | --usage | --version\n");
}

static int
usage(void)
{
	synopsis();
	printf("Each operation of a memory-mapped file as a shell command.\n\n"
	    "Applets:\n");
	list(stdout, 1);
	printf("\nRun 'mmutils APPLET --help' for an applet's options.\n"
	    "See mmutils(1) for numbers, byte strings and exit statuses.\n");
	return app_finish(EXIT_OK);
}

/* An unknown applet name: the list of the known ones, exit 127. */
static int
unknown(const char *name)
{
	fprintf(stderr, "mmutils: '%s': unknown applet; the applets are:\n",
	    name);
	list(stderr, 0);
	return 127;
}

int
main(int argc, char **argv)
{
	const char **av = (const char **)argv;
	const struct applet *a;
	char *base, buf[256];

	app_finish_at_exit();
	/*
	 * Past RLIMIT_FSIZE a write must fail with EFBIG, which every applet
	 * reports and exits 2 on, not kill it half-way (exit 153).
	 */
	signal(SIGXFSZ, SIG_IGN);
	snprintf(buf, sizeof(buf), "%s", argc > 0 ? argv[0] : "mmutils");
	base = basename(buf);
	if (strncmp(base, "mm", 2) == 0 && (a = lookup(base + 2)) != NULL)
		return run(a, argc, av);
	/*
	 * Any other name than the binary's own is a link that names no
	 * applet: the same answer as "mmutils NAME", not a missing one.
	 */
	if (strncmp(base, "mmutils", 7) != 0)
		return unknown(base);

	if (argc < 2) {
		fprintf(stderr, "mmutils: no applet given\n"
		    "Try 'mmutils --help' for more information.\n");
		return EXIT_FAIL;
	}
	if (strcmp(argv[1], "--list") == 0) {
		list(stdout, 0);
		return app_finish(EXIT_OK);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return usage();
	if (strcmp(argv[1], "--usage") == 0) {
		synopsis();
		return app_finish(EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mmutils (%s) %s\n", PACKAGE, PACKAGE_VERSION);
		return app_finish(EXIT_OK);
	}
	/* "mmutils read" and "mmutils mmread" both name the applet. */
	a = lookup(strncmp(argv[1], "mm", 2) == 0 && lookup(argv[1] + 2) ?
	    argv[1] + 2 : argv[1]);
	if (a == NULL)
		return unknown(argv[1]);
	return run(a, argc - 1, av + 1);
}
