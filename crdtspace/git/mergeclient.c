/* The merge driver's client in C: the fast path of mergeclient.py, and nothing else.
 *
 * git starts the merge driver once per file; a Python client pays the interpreter's start
 * (about 7 ms) before it sends anything, this one about a millisecond.  It does exactly what
 * mergeclient.py's `_drive` does when all goes well: read the three versions, find the
 * repository's merge server (`server_dir`), connect to its socket from inside its folder (the
 * same checks: a folder and a socket of this user, a peer of this user), send the same
 * request, and on `merged` (exit code 0 or 1) write the result into %A atomically
 * (`write_atomic`), copy the report to stderr and exit with the code.
 *
 * Anything else becomes the Python client (`python -I -S drivercommand.py` with the same
 * arguments), which starts a server, replaces one of another crdtspace, says why a socket is
 * refused, and so on: bad arguments, a switch off, a version that cannot be read, no git dir,
 * no server folder or socket yet, a connection refused, an `other` or `stale` answer.  Where
 * the Python client itself would stop asking and run the merge in its own process (an answer
 * other than `merged`, no answer in time -- the server is killed, as there --, a server that
 * died mid-merge, a result that cannot be written), this one does the same:
 * `python -m crdtspace merge-driver`, with the package on PYTHONPATH.  %A is written only
 * after a complete answer.
 *
 * What names this crdtspace is compiled in (crdtspace/git/nativeclient.py passes it with -D):
 * the request's key (MAGIC, the package root and the python, as mergeclient.KEY), the python
 * and the script to fall back to, the timeouts.  `CLIENT --key` prints the key (the build's
 * check that the binary runs).  C99 and POSIX; SO_PEERCRED where there is one (Linux).
 */

#if defined(__linux__) || defined(__CYGWIN__)
#define _GNU_SOURCE /* (SO_PEERCRED, struct ucred; it implies POSIX 2008) */
#else
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if !defined(CRDTSPACE_KEY) || !defined(CRDTSPACE_PYTHON) || !defined(CRDTSPACE_SCRIPT)
#error "built by crdtspace/git/nativeclient.py, which defines what names this crdtspace"
#endif

extern char **environ;

static const char KEY[] = CRDTSPACE_KEY; /* MAGIC \0 ROOT \0 python, as mergeclient.KEY */
static const char MAGIC[] = CRDTSPACE_MAGIC;
static const char ROOT[] = CRDTSPACE_ROOT;
static const char PYTHON[] = CRDTSPACE_PYTHON; /* as the command names it: the client's */
static const char EXECUTABLE[] = CRDTSPACE_EXECUTABLE; /* its sys.executable: the driver's */
static const char SCRIPT[] = CRDTSPACE_SCRIPT;
static const char TIMEOUT[] = CRDTSPACE_TIMEOUT; /* the merge's timeout, as the request says it */
static const int WAIT_MS = CRDTSPACE_WAIT_MS;    /* TIMEOUT + MARGIN */
static const int CONNECT_MS = CRDTSPACE_CONNECT_MS;
static const char FOLDER[] = CRDTSPACE_FOLDER; /* in <git dir>/crdtspace/ */
static const char SOCKET_NAME[] = CRDTSPACE_SOCKET;

static struct sigaction saved_pipe; /* SIGPIPE as we found it: restored for what we exec */
static char **arguments;            /* ours, for the fallbacks */
static int argument_count;

/* -- growing byte strings ---------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Bytes;

static void python_client(void);

static void reserve(Bytes *b, size_t more) {
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1) {
        if (cap > ((size_t)-1) / 2)
            python_client();
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL)
        python_client();
    b->data = data;
    b->cap = cap;
}

static void append(Bytes *b, const void *data, size_t len) {
    reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void append_str(Bytes *b, const char *s) { append(b, s, strlen(s)); }

/* One field of a message: its length in decimal, a newline, its bytes (mergeclient.frame). */
static void field(Bytes *b, const void *data, size_t len) {
    char head[32];
    int n = snprintf(head, sizeof head, "%zu\n", len);
    append(b, head, (size_t)n);
    append(b, data, len);
}

/* -- what we become when we cannot finish ------------------------------------------------- */

static void say(const char *line) {
    size_t len = strlen(line);
    while (len) {
        ssize_t n = write(2, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        line += n;
        len -= (size_t)n;
    }
}

static void cannot_run(void) {
    say("crdtspace: cannot run the merge driver: ");
    say(strerror(errno));
    say("\n");
    _exit(2);
}

/* The Python client, on the same arguments: it does all the rest. */
static void python_client(void) {
    char **argv = calloc((size_t)argument_count + 4, sizeof *argv);
    if (argv == NULL)
        cannot_run();
    argv[0] = (char *)PYTHON;
    argv[1] = "-I";
    argv[2] = "-S";
    argv[3] = (char *)SCRIPT;
    for (int i = 1; i < argument_count; i++)
        argv[i + 3] = arguments[i];
    sigaction(SIGPIPE, &saved_pipe, NULL);
    execv(PYTHON, argv);
    cannot_run();
}

static int all_digits(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The in-process driver (mergeclient.fallback): where the Python client would go now. */
static void in_process(void) {
    char *argv[12];
    int n = 0;
    argv[n++] = (char *)EXECUTABLE;
    argv[n++] = "-m";
    argv[n++] = "crdtspace";
    argv[n++] = "merge-driver";
    for (int i = 1; i < 5; i++)
        argv[n++] = arguments[i];
    argv[n++] = "--marker-size";
    argv[n++] = arguments[5];
    argv[n] = NULL;
    const char *old = getenv("PYTHONPATH");
    Bytes path = {0};
    append_str(&path, ROOT);
    if (old != NULL && *old) {
        append_str(&path, ":");
        append_str(&path, old);
    }
    if (setenv("PYTHONPATH", path.data, 1) != 0)
        cannot_run();
    sigaction(SIGPIPE, &saved_pipe, NULL);
    execv(EXECUTABLE, argv);
    cannot_run();
}

/* -- the request's parts ------------------------------------------------------------------ */

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* Python's str.strip() on ASCII text (the bounds, in place); 0 for text that is not ASCII. */
static int strip(const char **start, size_t *len) {
    const char *s = *start;
    size_t n = *len;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    *start = s;
    *len = n;
    return 1;
}

/* CRDTSPACE_MERGE_DRIVER or CRDTSPACE_MERGE_SERVER off (mergeclient._switched_off). */
static int switched_off(void) {
    static const char *names[] = {"CRDTSPACE_MERGE_DRIVER", "CRDTSPACE_MERGE_SERVER"};
    static const char *off[] = {"off", "0", "false", "no"};
    for (int i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (value == NULL)
            continue;
        size_t len = strlen(value);
        if (!strip(&value, &len))
            return 1; /* (not ASCII: the Python client decides) */
        char lower[8];
        if (len >= sizeof lower)
            continue;
        for (size_t j = 0; j < len; j++)
            lower[j] = (char)(value[j] >= 'A' && value[j] <= 'Z' ? value[j] + 32 : value[j]);
        lower[len] = '\0';
        for (int j = 0; j < 4; j++)
            if (strcmp(lower, off[j]) == 0)
                return 1;
    }
    return 0;
}

/* Python's C locale coercion (PEP 538): a Python client in the C locale has LC_CTYPE set in
 * its environment, which it sends; so do we. */
static void coerce_locale(void) {
    static const char *targets[] = {"C.UTF-8", "C.utf8", "UTF-8"};
    const char *all = getenv("LC_ALL");
    if (all != NULL && *all)
        return;
    setlocale(LC_CTYPE, ""); /* (as Python: the environment's, or C when it has none) */
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (ctype == NULL || strcmp(ctype, "C") != 0)
        return;
    for (int i = 0; i < 3; i++) {
        if (setlocale(LC_CTYPE, targets[i]) == NULL)
            continue;
        const char *codeset = nl_langinfo(CODESET);
        if (codeset == NULL || *codeset == '\0') {
            setlocale(LC_CTYPE, "");
            continue;
        }
        setenv("LC_CTYPE", targets[i], 1);
        break;
    }
    setlocale(LC_CTYPE, "C");
}

static int read_file(const char *name, Bytes *into) {
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        reserve(into, 1 << 16);
        ssize_t n = read(fd, into->data + into->len, into->cap - into->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        into->len += (size_t)n;
    }
    close(fd);
    return 0;
}

/* The environment as the Python client sends it: NAME=value joined by NUL, the first of
 * each name (os.environ keeps the first), entries without '=' left out. */
static void environment(Bytes *b) {
    int first = 1;
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq == NULL)
            continue;
        size_t klen = (size_t)(eq - *e);
        int seen = 0;
        for (char **p = environ; p != e && !seen; p++)
            seen = strncmp(*p, *e, klen + 1) == 0;
        if (seen)
            continue;
        if (!first)
            append(b, "", 1);
        append_str(b, *e);
        first = 0;
    }
}

static char *current_directory(void) {
    size_t size = 4096;
    for (;;) {
        char *buffer = malloc(size);
        if (buffer == NULL)
            python_client();
        if (getcwd(buffer, size) != NULL)
            return buffer;
        free(buffer);
        if (errno != ERANGE)
            python_client();
        size *= 2;
    }
}

/* -- where the server is (mergeclient.git_dir, server_dir) ------------------------------- */

/* os.path.join(a, b) */
static char *join(const char *a, const char *b) {
    Bytes out = {0};
    if (b[0] == '/') {
        append_str(&out, b);
        return out.data;
    }
    append_str(&out, a);
    if (out.len == 0 || out.data[out.len - 1] != '/')
        append_str(&out, "/");
    append_str(&out, b);
    return out.data;
}

static int is_dir(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

static int is_file(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

/* posixpath.normpath of an absolute path */
static char *normpath(const char *path) {
    size_t n = strlen(path);
    int slashes = path[0] == '/' ? (path[1] == '/' && path[2] != '/' ? 2 : 1) : 0;
    const char **parts = calloc(n + 1, sizeof *parts);
    size_t *lens = calloc(n + 1, sizeof *lens);
    if (parts == NULL || lens == NULL)
        python_client();
    size_t count = 0;
    for (const char *s = path; *s;) {
        const char *end = strchr(s, '/');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        int dots = len == 2 && s[0] == '.' && s[1] == '.';
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* skipped */
        } else if (!dots || (!slashes && count == 0) ||
                   (count && lens[count - 1] == 2 && parts[count - 1][0] == '.' &&
                    parts[count - 1][1] == '.')) {
            parts[count] = s;
            lens[count++] = len;
        } else if (count) {
            count--;
        }
        s += len;
        if (*s == '/')
            s++;
    }
    Bytes out = {0};
    append(&out, "//", (size_t)slashes);
    for (size_t i = 0; i < count; i++) {
        if (i)
            append_str(&out, "/");
        append(&out, parts[i], lens[i]);
    }
    if (out.len == 0)
        append_str(&out, ".");
    free(parts);
    free(lens);
    return out.data;
}

/* The git dir of the repository at `cwd`; NULL when there is none (or when only the Python
 * client can tell: a .git file that is not ASCII). */
static char *git_dir(const char *cwd) {
    const char *named = getenv("GIT_DIR");
    if (named != NULL && *named)
        return join(cwd, named);
    char *dotgit = join(cwd, ".git");
    if (is_dir(dotgit))
        return dotgit;
    if (is_file(dotgit)) {
        int fd = open(dotgit, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return NULL;
        char text[4096];
        size_t len = 0;
        while (len < sizeof text) {
            ssize_t n = read(fd, text + len, sizeof text - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        close(fd);
        const char *line = text;
        if (!strip(&line, &len) || len < 7 || memcmp(line, "gitdir:", 7) != 0)
            return NULL;
        line += 7;
        len -= 7;
        strip(&line, &len);
        if (memchr(line, '\0', len) != NULL)
            return NULL;
        Bytes rest = {0};
        append(&rest, line, len);
        char *found = join(cwd, rest.data);
        return is_dir(found) ? found : NULL;
    }
    char *head = join(cwd, "HEAD"), *objects = join(cwd, "objects");
    if (is_file(head) && is_dir(objects))
        return (char *)cwd;
    return NULL;
}

/* The server's folder: <git dir>/crdtspace/.merge, a folder only this user can enter. */
static char *server_dir(const char *cwd) {
    char *found = git_dir(cwd);
    if (found == NULL)
        python_client();
    char *folder = join(join(normpath(found), "crdtspace"), FOLDER);
    struct stat info;
    if (lstat(folder, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != geteuid() ||
        (info.st_mode & 077))
        python_client(); /* (it makes the folder, or mends its mode, or says no) */
    return folder;
}

/* -- talking to it ------------------------------------------------------------------------ */

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait until `fd` is ready for `events`: 1, or 0 when `deadline` passed, -1 on an error. */
static int wait_for(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n > 0)
            return 1;
    }
}

/* A connection to the server listening in `folder`, from inside it (no path limit); its pid
 * in `pid`.  Whatever is not our server there: the Python client. */
static int connect_in(const char *folder, int *pid) {
    char *path = join(folder, SOCKET_NAME);
    struct stat info;
    if (lstat(path, &info) != 0 || !S_ISSOCK(info.st_mode) || info.st_uid != geteuid())
        python_client(); /* (none yet: it starts one; or it refuses what is there) */
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    if (sock < 0)
        python_client();
    fcntl(sock, F_SETFD, FD_CLOEXEC);
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, SOCKET_NAME, sizeof SOCKET_NAME);
    int here = open(".", O_RDONLY | O_CLOEXEC);
    if (here < 0)
        python_client();
    int connected = -1;
    if (chdir(folder) == 0) {
        connected = connect(sock, (struct sockaddr *)&address, sizeof address);
        if (connected != 0 && errno == EINPROGRESS) {
            int error = 0;
            socklen_t size = sizeof error;
            if (wait_for(sock, POLLOUT, now_ms() + CONNECT_MS) == 1 &&
                getsockopt(sock, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0)
                connected = 0;
        }
    }
    if (fchdir(here) != 0)
        python_client();
    close(here);
    if (connected != 0) {
        close(sock);
        python_client();
    }
    *pid = 0;
#ifdef SO_PEERCRED
    struct ucred peer;
    socklen_t size = sizeof peer;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != geteuid()) {
        close(sock);
        python_client(); /* (it says the socket is held by another user) */
    }
    *pid = (int)peer.pid;
#endif
    return sock;
}

static int alive(int pid) {
    if (pid <= 0)
        return 1;
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Send the request and read the answer; -1: no answer in time, or the connection broke. */
static int exchange(int sock, const Bytes *request, Bytes *answer) {
    long long deadline = now_ms() + WAIT_MS; /* (a socket timeout: all of the sending) */
    for (size_t at = 0; at < request->len;) {
        ssize_t n = send(sock, request->data + at, request->len - at, 0);
        if (n > 0) {
            at += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int ready = wait_for(sock, POLLOUT, deadline);
        if (ready <= 0)
            return ready == 0 ? 0 : -1;
    }
    if (shutdown(sock, SHUT_WR) != 0)
        return -1;
    for (;;) {
        reserve(answer, 1 << 20);
        ssize_t n = recv(sock, answer->data + answer->len, answer->cap - answer->len - 1, 0);
        if (n > 0) {
            answer->len += (size_t)n;
            continue;
        }
        if (n == 0)
            return 1;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int ready = wait_for(sock, POLLIN, now_ms() + WAIT_MS); /* (each read, as there) */
        if (ready <= 0)
            return ready == 0 ? 0 : -1;
    }
}

/* The fields of a whole message (mergeclient.unframe), if it has exactly `want` of them. */
static int unframe(const Bytes *data, const char **fields, size_t *lens, int want) {
    size_t at = 0;
    int count = 0;
    while (at < data->len) {
        size_t limit = data->len - at < 21 ? data->len - at : 21;
        const char *newline = memchr(data->data + at, '\n', limit);
        if (newline == NULL || newline == data->data + at || count == want)
            return 0;
        size_t size = 0, start = (size_t)(newline - data->data) + 1;
        for (const char *d = data->data + at; d < newline; d++) {
            if (*d < '0' || *d > '9')
                return 0;
            size = size * 10 + (size_t)(*d - '0');
            if (size > data->len)
                return 0;
        }
        if (size > data->len - start)
            return 0;
        fields[count] = data->data + start;
        lens[count++] = size;
        at = start + size;
    }
    return count == want;
}

static int same(const char *field, size_t len, const char *text) {
    return len == strlen(text) && memcmp(field, text, len) == 0;
}

/* -- writing the result (mergeclient.write_atomic) --------------------------------------- */

static int write_all(int fd, const char *data, size_t len) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_atomic(const char *path, const char *data, size_t len) {
    char *target = realpath(path, NULL);
    if (target == NULL)
        return -1;
    struct stat info;
    mode_t mode = 0644;
    if (stat(target, &info) == 0)
        mode = info.st_mode & 07777;
    else if (errno != ENOENT)
        return -1;
    char *slash = strrchr(target, '/');
    Bytes temporary = {0};
    append(&temporary, target, (size_t)(slash - target) + 1);
    char tail[64];
    snprintf(tail, sizeof tail, ".crdtspace-%ld.tmp", (long)getpid());
    append_str(&temporary, ".");
    append_str(&temporary, slash + 1);
    append_str(&temporary, tail);
    int fd = open(temporary.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int failed = write_all(fd, data, len) != 0 || fchmod(fd, mode) != 0;
    failed |= close(fd) != 0;
    if (failed || rename(temporary.data, target) != 0) {
        unlink(temporary.data);
        return -1;
    }
    return 0;
}

/* -- the driver --------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    arguments = argv;
    argument_count = argc;
    if (argc == 2 && strcmp(argv[1], "--key") == 0)
        return write_all(1, KEY, sizeof KEY - 1) == 0 ? 0 : 1;
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &saved_pipe); /* (a server gone mid-request: an error) */

    /* %O %A %B %P %L, as `_arguments` takes them */
    if (argc != 6 || !all_digits(argv[5]) || argv[1][0] == '-' || argv[2][0] == '-' ||
        argv[3][0] == '-')
        python_client();
    const char *size = argv[5];
    while (size[0] == '0' && size[1])
        size++; /* (b"%d" % int(...)) */
    if (strlen(size) > 9 || switched_off())
        python_client();
    coerce_locale();
    Bytes versions[3] = {{0}, {0}, {0}};
    for (int i = 0; i < 3; i++)
        if (read_file(argv[i + 1], &versions[i]) != 0)
            python_client(); /* (it says which version) */
    char *cwd = current_directory();
    char *folder = server_dir(cwd);

    Bytes request = {0}, env = {0};
    environment(&env);
    field(&request, MAGIC, strlen(MAGIC));
    field(&request, "merge", 5);
    field(&request, KEY, sizeof KEY - 1);
    field(&request, cwd, strlen(cwd));
    field(&request, env.data, env.len);
    field(&request, argv[4], strlen(argv[4]));
    field(&request, size, strlen(size));
    field(&request, TIMEOUT, strlen(TIMEOUT));
    for (int i = 0; i < 3; i++)
        field(&request, versions[i].data, versions[i].len);

    int pid;
    int sock = connect_in(folder, &pid);
    Bytes answer = {0};
    int got = exchange(sock, &request, &answer);
    close(sock);
    if (got == 0) {
        if (pid > 0)
            kill(pid, SIGKILL); /* (stuck: the next call starts a new one) */
        in_process();
    }
    if (got < 0)
        in_process();
    const char *fields[7];
    size_t lens[7];
    if (!unframe(&answer, fields, lens, 7) || !same(fields[0], lens[0], MAGIC)) {
        if (alive(pid))
            python_client(); /* (something else answers there: it replaces it) */
        in_process();
    }
    if (same(fields[1], lens[1], "other") || same(fields[1], lens[1], "stale"))
        python_client(); /* (it starts a new server) */
    if (!same(fields[1], lens[1], "merged") ||
        !(same(fields[4], lens[4], "0") || same(fields[4], lens[4], "1")))
        in_process();
    if (write_atomic(argv[2], fields[5], lens[5]) != 0)
        in_process(); /* (it says why the result cannot be written) */
    /* From here on, never a fallback: %A holds the result now, not our version. */
    write_all(2, fields[6], lens[6]);
    return fields[4][0] - '0';
}
