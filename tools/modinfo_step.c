/* The per-module build step of buildtool, as a native program.
 *
 *   modinfo-step SOURCE OUT_DIR NAME
 *
 * Exactly what `buildtool/buildstep.py step` does (that file documents it;
 * tests/test_build_edit_loop.py checks that both write the same bytes): writes
 * OUT_DIR/NAME.modinfo.hash.h (`#define AST_MODULE_SOURCE_HASH "sha256:..."`);
 * then, when the part of SOURCE that can hold MODULEINFO data (the prefix up to
 * the end of its last MODULEINFO block, or the whole source when a hand-written
 * info-struct field name appears after it) differs from OUT_DIR/NAME.modinfo.block,
 * or the header or tree fragment is missing, runs the command in
 * OUT_DIR/modinfo-step.args (one argument a line, written at configure time:
 * `python -I -S buildstep.py module`) with SOURCE OUT_DIR NAME, and writes the
 * block only when that succeeded. Each file is written (through a temporary
 * file and a rename) only when its content changes, so ninja's restat stops
 * there. It runs on every edit of a module, so it is C: about 1 ms where a
 * Python start costs ~15 ms. SHA-256 comes from OpenSSL's libcrypto; without
 * it the build runs buildstep.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

static const char opening[] = "/*** MODULEINFO";
/* buildtool.buildstep.DOCUMENTATION_OPENING */
static const char documentation_opening[] = "/*** DOCUMENTATION";
/* buildtool.buildstep.HINTS */
static const char *const hints[] = {"requires", "optional_modules", "enhances", "support_level"};

static void die(const char *path, const char *what)
{
	fprintf(stderr, "%s: error: %s: %s\n", path, what, strerror(errno));
	exit(2);
}

static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	size_t cap = 65536, used = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			errno = ENOMEM;
			close(fd);
			return NULL;
		}
		if (used == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				errno = ENOMEM;
				close(fd);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + used, cap - used);
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			int saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (got == 0) {
			break;
		}
		used += (size_t) got;
	}
	close(fd);
	*len = used;
	return buf;
}

static const char *find_last(const char *hay, size_t len, const char *needle, size_t nlen)
{
	const char *last = NULL, *p = hay;
	while ((size_t) (p - hay) < len) {
		const char *found = memmem(p, len - (size_t) (p - hay), needle, nlen);
		if (!found) {
			break;
		}
		last = found;
		p = found + 1;
	}
	return last;
}

/* buildtool.fsutil.write_if_changed */
static void write_if_changed(const char *path, const char *data, size_t len)
{
	size_t old_len;
	char *old = read_all(path, &old_len);
	mode_t mode = 0666;
	if (old) {
		int same = old_len == len && memcmp(old, data, len) == 0;
		free(old);
		if (same) {
			return;
		}
		struct stat st;
		if (stat(path, &st) == 0) {
			mode = st.st_mode & 07777;
		}
	} else {
		mode_t mask = umask(0);
		umask(mask);
		mode &= ~mask;
	}
	size_t tmp_len = strlen(path) + 64;
	char *tmp = malloc(tmp_len);
	if (!tmp) {
		errno = ENOMEM;
		die(path, "cannot write");
	}
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int) (slash - path + 1) : 0;
	snprintf(tmp, tmp_len, "%.*s.%s.%ld.tmp", dir_len, path, slash ? slash + 1 : path, (long) getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		die(path, "cannot write");
	}
	size_t done = 0;
	while (done < len) {
		ssize_t put = write(fd, data + done, len - done);
		if (put < 0 && errno == EINTR) {
			continue;
		}
		if (put < 0) {
			unlink(tmp);
			die(path, "cannot write");
		}
		done += (size_t) put;
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		die(path, "cannot write");
	}
	free(tmp);
}

static char *path_of(const char *dir, const char *name, const char *suffix)
{
	size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *path = malloc(len);
	if (!path) {
		errno = ENOMEM;
		die(name, "cannot allocate");
	}
	snprintf(path, len, "%s/%s%s", dir, name, suffix);
	return path;
}

/* buildtool.buildstep.module_outputs_stale */
static int outputs_stale(const char *out_dir, const char *name, const char *payload, size_t len)
{
	char *block = path_of(out_dir, name, ".modinfo.block");
	size_t old_len;
	char *old = read_all(block, &old_len);
	int stale = !old || old_len != len || memcmp(old, payload, len) != 0;
	free(old);
	free(block);
	const char *suffixes[] = {".modinfo.h", ".modinfo.json"};
	for (size_t i = 0; i < 2 && !stale; i++) {
		char *path = path_of(out_dir, name, suffixes[i]);
		stale = access(path, F_OK) != 0;
		free(path);
	}
	return stale;
}

/* The configured `module` command with SOURCE OUT_DIR NAME; its exit status. */
static int run_module_command(char **argv)
{
	char *args_path = path_of(argv[2], "modinfo-step", ".args");
	size_t len;
	char *text = read_all(args_path, &len);
	if (!text) {
		die(args_path, "cannot read (configure again)");
	}
	char **cmd = calloc(len + 4, sizeof(*cmd));
	if (!cmd) {
		errno = ENOMEM;
		die(args_path, "cannot allocate");
	}
	size_t n = 0;
	char *start = text;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			text[i] = '\0';
			cmd[n++] = start;
			start = text + i + 1;
		}
	}
	if (n == 0) {
		fprintf(stderr, "%s: error: empty (configure again)\n", args_path);
		exit(2);
	}
	cmd[n++] = argv[1];
	cmd[n++] = argv[2];
	cmd[n++] = argv[3];
	cmd[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		die(cmd[0], "cannot start");
	}
	if (pid == 0) {
		execv(cmd[0], cmd);
		fprintf(stderr, "%s: error: cannot run: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			die(cmd[0], "cannot wait for");
		}
	}
	free(cmd);
	free(text);
	free(args_path);
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: modinfo-step SOURCE OUT_DIR NAME\n");
		return 2;
	}
	size_t len;
	char *data = read_all(argv[1], &len);
	if (!data) {
		die(argv[1], "cannot read");
	}

	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	if (!EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL)) {
		fprintf(stderr, "%s: error: SHA-256 failed\n", argv[1]);
		return 2;
	}
	char define[128];
	int at = snprintf(define, sizeof(define), "#define AST_MODULE_SOURCE_HASH \"sha256:");
	for (unsigned int i = 0; i < digest_len; i++) {
		at += snprintf(define + at, sizeof(define) - (size_t) at, "%02x", digest[i]);
	}
	at += snprintf(define + at, sizeof(define) - (size_t) at, "\"\n");
	char *hash_path = path_of(argv[2], argv[3], ".modinfo.hash.h");
	write_if_changed(hash_path, define, (size_t) at);
	free(hash_path);

	/* buildtool.buildstep.block_region, then block_payload */
	size_t region = 0;
	const char *last = find_last(data, len, opening, sizeof(opening) - 1);
	if (last) {
		const char *from = last + sizeof(opening) - 1;
		const char *end = memmem(from, len - (size_t) (from - data), "*/", 2);
		region = end ? (size_t) (end + 2 - data) : len;
	}
	size_t payload = region;
	const char *documentation = find_last(data, len, documentation_opening, sizeof(documentation_opening) - 1);
	if (documentation && (size_t) (documentation - data) >= region) {
		const char *from = documentation + sizeof(documentation_opening) - 1;
		const char *end = memmem(from, len - (size_t) (from - data), "*/", 2);
		payload = end ? (size_t) (end + 2 - data) : len;
	}
	size_t after = payload;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		if (memmem(data + after, len - after, hints[i], strlen(hints[i]))) {
			payload = len;
			break;
		}
	}
	if (outputs_stale(argv[2], argv[3], data, payload)) {
		int status = run_module_command(argv);
		if (status != 0) {
			return status;
		}
		char *block = path_of(argv[2], argv[3], ".modinfo.block");
		write_if_changed(block, data, payload);
		free(block);
	}
	free(data);
	return 0;
}
