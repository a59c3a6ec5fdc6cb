/* The per-module build step of buildtool, as a native program.
 *
 *   modinfo-step SOURCE OUT_DIR NAME
 *   modinfo-step tree OUT_DIR SCAN_TREE TREE DROP
 *   modinfo-step listing DIR OUT DEPFILE
 *
 * Exactly what `buildtool/buildstep.py step` does (that file documents it;
 * tests/test_build_edit_loop.py checks that both write the same bytes): writes
 * OUT_DIR/NAME.modinfo.hash.h (`#define AST_MODULE_SOURCE_HASH "sha256:..."`);
 * then, when the part of SOURCE that can hold MODULEINFO data (the prefix up to
 * the end of its last MODULEINFO block, or the whole source when a hand-written
 * info-struct field name appears after it) differs from OUT_DIR/NAME.modinfo.block,
 * or the header or tree fragment is missing, runs the command in
 * OUT_DIR/modinfo-step.args (one argument a line, written at configure time:
 * `python -I -S buildstep.py`) with `module SOURCE OUT_DIR NAME`, and writes the
 * block only when that succeeded. Each file is written (through a temporary
 * file and a rename) only when its content changes, so ninja's restat stops
 * there. It runs on every edit of a module, so it is C: about 0.4 ms (little
 * more than starting a process) where a Python start costs ~15 ms. SHA-256
 * comes from OpenSSL's libcrypto; without it the build runs buildstep.py.
 *
 * Before running that command it asks the step server (buildtool/stepserver.py
 * documents it and the protocol): the same command's work in a Python process
 * kept between edits, ~2 ms where a new one costs ~55 ms. When no server
 * answers, it runs the command itself and starts a server for the next edit.
 * `tree` and `listing` are buildstep.py's steps of those names, asked of the
 * server the same way (OUT_DIR: OUT's directory for `listing`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* SHA-256 through OpenSSL's low-level interface (deprecated in OpenSSL 3, still shipped): EVP_Digest
 * first loads OpenSSL's configuration and providers, ~1.5 ms of a ~2 ms run, and this program runs on
 * every edit. tools/meson.build links libcrypto statically when it can: loading the shared library
 * costs another ~0.6 ms. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

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

/* OUT_DIR/modinfo-step.args, the configured `python -I -S buildstep.py` (one argument a line), as an argv
 * with room for `extra` more; its text (the server's identity of the configuration) in *text, *text_len. */
static char **configured_command(const char *out_dir, size_t extra, char **text, size_t *text_len)
{
	char *path = path_of(out_dir, "modinfo-step", ".args");
	*text = read_all(path, text_len);
	if (!*text) {
		die(path, "cannot read (configure again)");
	}
	char *split = malloc(*text_len + 1);
	char **cmd = calloc(*text_len + extra + 1, sizeof(*cmd));
	if (!split || !cmd) {
		errno = ENOMEM;
		die(path, "cannot allocate");
	}
	memcpy(split, *text, *text_len);
	size_t n = 0;
	char *start = split;
	for (size_t i = 0; i < *text_len; i++) {
		if (split[i] == '\n') {
			split[i] = '\0';
			cmd[n++] = start;
			start = split + i + 1;
		}
	}
	if (n == 0) {
		fprintf(stderr, "%s: error: empty (configure again)\n", path);
		exit(2);
	}
	free(path);
	return cmd;
}

static size_t count_of(char **cmd)
{
	size_t n = 0;
	while (cmd[n]) {
		n++;
	}
	return n;
}

/* buildtool.stepserver: MAGIC, SOCKET_NAME, LOG_NAME, SERVER_VARIABLE */
static const char server_magic[] = "buildtool-step/2";
static const char server_socket[] = "modinfo-step.sock";
static const char server_log[] = "modinfo-step-server.log";
static const char server_variable[] = "BUILDTOOL_STEP_SERVER";
/* A request takes milliseconds (a queue of -jN of them, a second); past this the server is stuck (stopped,
 * or hung): the step runs the command itself, and removes the socket so that no later step waits too. */
static const int server_wait_seconds = 10;
static const size_t max_reply = 16u << 20;

/* Start the server for OUT_DIR (the configured command with `serve OUT_DIR`), detached: its own
 * session, no descriptor of ours (ninja waits for the end of the output it hands its commands). */
static void start_server(const char *out_dir)
{
	char *text;
	size_t text_len;
	char **cmd = configured_command(out_dir, 2, &text, &text_len);
	size_t n = count_of(cmd);
	cmd[n++] = "serve";
	cmd[n++] = (char *) out_dir;
	char *log_path = path_of(out_dir, server_log, "");
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() != 0) {
			_exit(0);
		}
		int null = open("/dev/null", O_RDWR);
		/* O_NOFOLLOW: a link planted there must not get the log appended to another file;
		 * O_NONBLOCK: a FIFO planted there must not hang the server before it starts */
		int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (null < 0) {
			_exit(127);
		}
		dup2(null, 0);
		dup2(null, 1);
		dup2(log >= 0 ? log : null, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
		close_range(3, ~0U, 0);
#else
		long max_fd = sysconf(_SC_OPEN_MAX);
		for (long fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); fd++) {
			close((int) fd);
		}
#endif
		execv(cmd[0], cmd);
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
	}
	free(log_path);
	free(cmd[0]); /* the split copy of the text */
	free(cmd);
	free(text);
}

/* A server that did not answer within server_wait_seconds: its socket removed (if it is still the one
 * asked), so that the steps after this one do not wait for it too; it leaves when it sees it gone. */
static void remove_stuck(const char *path, const struct stat *asked)
{
	struct stat now;
	if (lstat(path, &now) == 0 && now.st_dev == asked->st_dev && now.st_ino == asked->st_ino) {
		unlink(path);
	}
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t put = send(fd, data, len, MSG_NOSIGNAL);
		if (put < 0 && errno == EINTR) {
			continue;
		}
		if (put <= 0) {
			return -1;
		}
		data += put;
		len -= (size_t) put;
	}
	return 0;
}

static void write_out(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t put = write(fd, data, len);
		if (put < 0 && errno == EINTR) {
			continue;
		}
		if (put <= 0) {
			return;
		}
		data += put;
		len -= (size_t) put;
	}
}

/* The step command's exit status as the step server of OUT_DIR answers it, after writing what it
 * printed; -1 when no server answered (none, refused, stuck, gone, or a reply of another protocol):
 * then nothing was printed, and *start_one says whether to start a server for the next time. */
static int ask_server(const char *out_dir, const char *command, size_t command_len, char **step, size_t steps,
		      int *start_one)
{
	*start_one = 0;
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	int at = snprintf(address.sun_path, sizeof(address.sun_path), "%s/%s", out_dir, server_socket);
	if (at < 0 || (size_t) at >= sizeof(address.sun_path)) {
		return -1; /* a path too long for a socket address: no server for this build directory */
	}
	struct stat asked;
	if (lstat(address.sun_path, &asked) != 0) {
		*start_one = errno == ENOENT;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct timeval wait = {.tv_sec = server_wait_seconds}; /* connect too: it waits while the backlog is full */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
	if (connect(fd, (struct sockaddr *) &address, sizeof(address)) != 0) {
		*start_one = errno == ENOENT || errno == ECONNREFUSED;
		if (errno == EAGAIN) {
			remove_stuck(address.sun_path, &asked);
		}
		close(fd);
		return -1;
	}
#ifdef SO_PEERCRED
	struct ucred peer;
	socklen_t peer_len = sizeof(peer);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 || peer.uid != getuid()) {
		close(fd);
		return -1; /* not a server of ours */
	}
#endif
	char *cwd = getcwd(NULL, 0);
	int failed = !cwd || send_all(fd, server_magic, sizeof(server_magic)) || send_all(fd, cwd, strlen(cwd) + 1)
		|| send_all(fd, command, command_len) || send_all(fd, "", 1);
	for (size_t i = 0; i < steps && !failed; i++) {
		failed = send_all(fd, step[i], strlen(step[i]) + 1);
	}
	free(cwd);
	if (failed || shutdown(fd, SHUT_WR) != 0) {
		close(fd);
		return -1;
	}
	size_t cap = 4096, used = 0;
	char *reply = malloc(cap + 1);
	for (;;) {
		if (!reply) {
			close(fd);
			return -1;
		}
		if (used == cap) {
			if (cap >= max_reply) {
				used = 0; /* not a step's output: cut, it would not be the command's own */
				break;
			}
			char *bigger = realloc(reply, cap * 2 + 1);
			if (!bigger) {
				free(reply);
				close(fd);
				return -1;
			}
			reply = bigger;
			cap *= 2;
		}
		ssize_t got = recv(fd, reply + used, cap - used, 0);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				remove_stuck(address.sun_path, &asked);
			}
			used = 0; /* stuck (the timeout) or reset: no answer */
			break;
		}
		if (got == 0) {
			break;
		}
		used += (size_t) got;
	}
	close(fd);
	reply[used] = '\0';
	/* STATUS\nLENGTH\n, LENGTH bytes of standard output, the rest standard error */
	char *end;
	errno = 0;
	long status = strtol(reply, &end, 10);
	int valid = used > 0 && end != reply && *end == '\n' && errno == 0 && status >= 0 && status <= 255;
	unsigned long out_len = 0;
	char *out = NULL;
	if (valid) {
		char *length = end + 1;
		out_len = strtoul(length, &end, 10);
		out = end + 1;
		valid = end != length && *end == '\n' && errno == 0 && out_len <= used - (size_t) (out - reply);
	}
	if (!valid) {
		free(reply);
		*start_one = 1; /* refused (that server ends) or no answer: a server for the next time */
		return -1;
	}
	write_out(1, out, out_len);
	write_out(2, out + out_len, used - (size_t) (out + out_len - reply));
	free(reply);
	return (int) status;
}

/* A buildtool/buildstep.py command (`module SOURCE OUT_DIR NAME`, `tree OUT_DIR ...`, `listing DIR OUT
 * DEPFILE`) of the build directory OUT_DIR, answered by its step server or run here; its exit status.
 * Only a module's step starts a server when it finds none: that is an edit of a MODULEINFO block (a
 * fresh build's steps need no Python for a module: configuration wrote its outputs), and a build that
 * is not edited (a package build, CI) leaves no process behind; its tree and listing steps run here. */
static int run_step_command(const char *out_dir, char **step, size_t steps)
{
	char *text;
	size_t text_len;
	char **cmd = configured_command(out_dir, steps, &text, &text_len);
	const char *wanted = getenv(server_variable);
	if (!wanted || strcmp(wanted, "0") != 0) {
		int start_one = 0;
		int answer = ask_server(out_dir, text, text_len, step, steps, &start_one);
		if (answer >= 0) {
			free(cmd[0]);
			free(cmd);
			free(text);
			return answer;
		}
		if (start_one && strcmp(step[0], "module") == 0) {
			start_server(out_dir);
		}
	}
	size_t n = count_of(cmd);
	for (size_t i = 0; i < steps; i++) {
		cmd[n++] = step[i];
	}
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
	free(cmd[0]);
	free(cmd);
	free(text);
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "tree") == 0) {
		return run_step_command(argv[2], argv + 1, 5);
	}
	if (argc == 5 && strcmp(argv[1], "listing") == 0) {
		char *out_dir = strdup(argv[3]);
		char *slash = out_dir ? strrchr(out_dir, '/') : NULL;
		if (slash) {
			*slash = '\0';
		}
		return run_step_command(slash ? out_dir : ".", argv + 1, 4);
	}
	if (argc != 4) {
		fprintf(stderr, "usage: modinfo-step SOURCE OUT_DIR NAME | tree OUT_DIR SCAN_TREE TREE DROP | "
				"listing DIR OUT DEPFILE\n");
		return 2;
	}
	size_t len;
	char *data = read_all(argv[1], &len);
	if (!data) {
		die(argv[1], "cannot read");
	}

	unsigned char digest[SHA256_DIGEST_LENGTH];
	unsigned int digest_len = SHA256_DIGEST_LENGTH;
	SHA256_CTX sha;
	if (!SHA256_Init(&sha) || !SHA256_Update(&sha, data, len) || !SHA256_Final(digest, &sha)) {
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
		char *module[] = {"module", argv[1], argv[2], argv[3]};
		int status = run_step_command(argv[2], module, 4);
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
