/*
 * Who hookflashd runs as (main_priv.h). A PBX on the internet parses
 * hostile input all day; if that code is ever subverted it must hold
 * nothing worth having, so a daemon started as root keeps root only for
 * start-up, the way OpenBSD's daemons bind, then drop. The drop is done in
 * two steps because start-up both creates files and binds sockets: first
 * the effective uid becomes the service user's (files are created as it;
 * CAP_NET_BIND_SERVICE is kept only if a port below 1024 is configured),
 * then, with every socket open, real, effective and saved uids all become
 * the user's. glibc applies set*id to every thread, and the kernel empties
 * a thread's capability sets when its last uid 0 goes, so the worker
 * threads started in between end up with nothing too. No libcap: two
 * system calls do.
 */
#include "main_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"

int priv_lock_take(const char *data_dir, int *fd_out)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/hookflashd.lock", data_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int err = errno;
		fprintf(stderr, "hookflashd: cannot open the lock file %s: %s\n", path, strerror(err));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		if (err == EWOULDBLOCK) {
			char buf[32] = { 0 };
			ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
			long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
			if (pid > 0)
				fprintf(stderr, "hookflashd is already running with data directory %s (pid %ld)\n",
					data_dir, pid);
			else
				fprintf(stderr, "hookflashd is already running with data directory %s\n",
					data_dir);
			err = EBUSY;
		} else {
			fprintf(stderr, "hookflashd: cannot lock %s: %s\n", path, strerror(err));
		}
		close(fd);
		return err;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("main", "cannot write our pid in %s: %s", path, strerror(errno));
	*fd_out = fd; /* held, never closed: the lock lives as long as we do */
	return 0;
}

int priv_user_resolve(const struct conf *c, struct priv_user *u, char *err, size_t cap)
{
	memset(u, 0, sizeof(*u));
	const char *want = c->run_user[0] ? c->run_user : NULL;
	if (geteuid() != 0) {
		/* started unprivileged (systemd's User=): already who we are */
		struct passwd *pw = want ? getpwnam(want) : NULL;
		if (want && (!pw || pw->pw_uid != geteuid())) {
			snprintf(err, cap, "--user %s: hookflashd runs as uid %u, not as root, so it "
				 "cannot become another user", want, (unsigned)geteuid());
			return EPERM;
		}
		return 0;
	}
	if (want && strcmp(want, "root") == 0) {
		u->as_root = true;
		return 0;
	}
	const char *name = want ? want : PRIV_DEFAULT_USER;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		snprintf(err, cap, "started as root, but the user '%s' it runs as does not exist: "
			 "create it (useradd --system --no-create-home --shell /usr/sbin/nologin %s; "
			 "make install and make run do), name another with --user, or stay root "
			 "with --user root (not recommended)", name, name);
		return ENOENT;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, cap, "--user %s has uid or gid 0: that is root by another name", name);
		return EINVAL;
	}
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

/* nftw has no argument for its callback: start-up is single-threaded */
static uid_t tree_uid;
static gid_t tree_gid;
static int tree_changed, tree_failed;

static int give_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid != 0)
		return 0; /* someone's already, maybe on purpose: leave it */
	if (lchown(path, tree_uid, tree_gid) == 0)
		tree_changed++;
	else
		tree_failed++;
	return 0;
}

/* A data directory used by an older, root-running hookflashd (or by the
 * CLI as root before the first start) holds root's files: the user gets
 * them. Symbolic links are not followed (lchown), other mounts not
 * entered; a hard link the user made to a root file elsewhere is refused
 * by the kernel's protected_hardlinks (on by default), so the walk cannot
 * be turned against the system. */
static void give_data_dir(const struct priv_user *u, const char *dir)
{
	tree_uid = u->uid;
	tree_gid = u->gid;
	tree_changed = tree_failed = 0;
	nftw(dir, give_one, 16, FTW_PHYS | FTW_MOUNT);
	if (tree_changed)
		log_info("main", "%d files in %s given to user %s", tree_changed, dir, u->name);
	if (tree_failed)
		log_warn("main", "%d files in %s could not be given to user %s", tree_failed, dir,
			 u->name);
}

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	return syscall(SYS_capget, &h, d) == 0 ? 0 : errno;
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	return syscall(SYS_capset, &h, d) == 0 ? 0 : errno;
}

static bool needs_low_port(const struct conf *c)
{
	return c->sip_udp_port < 1024 || c->sip_tcp_port < 1024 || c->http_port < 1024 ||
	       c->https_port < 1024 || c->rtp_min < 1024;
}

int priv_begin(const struct priv_user *u, const struct conf *c)
{
	if (!u->drop)
		return 0;
	give_data_dir(u, c->data_dir);
	if (initgroups(u->name, u->gid) != 0 && setgroups(1, &u->gid) != 0) {
		log_err("main", "cannot take the groups of user %s: %s", u->name, strerror(errno));
		return errno;
	}
	/* Nothing can ever come back either: the bounding set (inherited
	 * by every thread started from now on) keeps at most the one
	 * capability start-up may need. */
	bool low = needs_low_port(c);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(low && cap == CAP_NET_BIND_SERVICE))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	/* nothing we exec (we exec nothing) could gain privileges either;
	 * per thread, like the bounding set, so set before any starts */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (setresgid(u->gid, u->gid, u->gid) != 0) {
		log_err("main", "cannot take gid %u: %s", (unsigned)u->gid, strerror(errno));
		return errno;
	}
	/* Effective uid only: real and saved stay 0 until priv_finish, so
	 * the permitted capabilities survive; the kernel clears the
	 * effective ones, and only the one start-up may need comes back. */
	if (setresuid((uid_t)-1, u->uid, (uid_t)-1) != 0) {
		log_err("main", "cannot take uid %u: %s", (unsigned)u->uid, strerror(errno));
		return errno;
	}
	if (low) {
		struct __user_cap_data_struct d[2];
		int err = caps_get(d);
		if (!err) {
			d[0].effective = 1u << CAP_NET_BIND_SERVICE;
			d[1].effective = 0;
			err = caps_set(d);
		}
		if (err) {
			log_err("main", "cannot keep CAP_NET_BIND_SERVICE for a port below 1024: %s",
				strerror(err));
			return err;
		}
	}
	if (faccessat(AT_FDCWD, c->data_dir, R_OK | W_OK | X_OK, AT_EACCESS) != 0) {
		log_err("main", "user %s cannot use the data directory %s: %s (it and every "
			"directory above it must be searchable by %s)",
			u->name, c->data_dir, strerror(errno), u->name);
		return EACCES;
	}
	return 0;
}

int priv_finish(const struct priv_user *u)
{
	if (u->as_root)
		log_warn("main", "running as root (--user root): any flaw in the network code "
			 "would give the whole machine away; prefer the default user " PRIV_DEFAULT_USER);
	if (!u->drop)
		return 0;
	if (setresuid(u->uid, u->uid, u->uid) != 0) {
		log_err("main", "cannot become user %s: %s", u->name, strerror(errno));
		return EPERM;
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	struct __user_cap_data_struct d[2];
	bool ok = getresuid(&r, &e, &s) == 0 && r == u->uid && e == u->uid && s == u->uid &&
		  getresgid(&rg, &eg, &sg) == 0 && rg == u->gid && eg == u->gid && sg == u->gid;
	ok = ok && setuid(0) != 0 && seteuid(0) != 0 && setgid(0) != 0;
	ok = ok && caps_get(d) == 0 && !d[0].effective && !d[1].effective && !d[0].permitted &&
	     !d[1].permitted && !d[0].inheritable && !d[1].inheritable;
	if (!ok) {
		log_err("main", "dropping root to user %s did not hold (root could be regained): "
			"stopping", u->name);
		return EPERM;
	}
	/* The uid change made us undumpable, as if we were setuid: that
	 * also keeps LeakSanitizer (and gdb as this user) out. A daemon
	 * systemd starts as this user directly is dumpable; be the same. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	log_info("main", "running as user %s (uid %u, gid %u) with no capabilities", u->name,
		 (unsigned)u->uid, (unsigned)u->gid);
	return 0;
}

void priv_fail(const struct priv_user *u)
{
	if (!u->drop || setresuid(u->uid, u->uid, u->uid) != 0)
		return;
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* as in priv_finish */
}
