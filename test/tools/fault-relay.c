/*
 * fault-relay: carries Ethernet frames between a Linux tap device and QEMU's dgram netdev, losing,
 * duplicating and reordering some of them on the way, both directions, from a seeded generator. It
 * stands in for `tc qdisc ... netem` on kernels built without sch_netem.
 *
 *   fault-relay <tap-name> <local-udp-port> <qemu-udp-port> <loss-%> <reorder-%> <duplicate-%> <seed>
 *
 * Attaches to the existing tap device (IFF_TAP | IFF_NO_PI), binds 127.0.0.1:<local-udp-port> and sends
 * the guest's frames there from QEMU (`-netdev dgram,local.port=<qemu-udp-port>,remote.port=<local>`).
 * Per frame and direction: dropped with probability loss; otherwise held back with probability reorder
 * (sent right after the next frame of that direction, or after 5 ms when none comes: the netem effect
 * of "some packets go first"); otherwise sent, and sent twice with probability duplicate.
 * Prints "relaying" once ready; on SIGTERM or SIGINT prints the counts and exits 0.
 *
 * Exit status: 0 ended by a signal; 1 a system call failed; 2 bad arguments. Needs access to /dev/net/tun.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { EXIT_SYSTEM = 1, EXIT_USAGE = 2 };
enum { MAX_FRAME = 65536, HOLD_MS = 5 };

static void fail(int status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("fault-relay: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(status);
}

/* xorshift64*: small, seeded, good enough for fault decisions. */
static uint64_t state;
static double chance(void) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return (double)((state * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

static double percent(const char *text) {
  char *end;
  double value = strtod(text, &end);
  if (*end || value < 0 || value > 100) fail(EXIT_USAGE, "not a percentage: %s", text);
  return value / 100;
}

static long port(const char *text) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end || value < 1 || value > 65535) fail(EXIT_USAGE, "not a port: %s", text);
  return value;
}

struct direction {
  const char *name;
  unsigned long frames, dropped, duplicated, reordered;
  unsigned char held[MAX_FRAME];
  ssize_t held_length; /* 0: nothing held */
};

static volatile sig_atomic_t stopping;
static void on_signal(int signal_number) {
  (void)signal_number;
  stopping = 1;
}

static int tap_fd, udp_fd;
static struct sockaddr_in qemu;
static double loss, reorder, duplicate;

/* Towards the tap (to the host) or towards QEMU (to the guest); errors such as ENOBUFS lose the frame, as a wire would. */
static void emit(int to_tap, const unsigned char *frame, ssize_t length) {
  if (to_tap) (void)!write(tap_fd, frame, (size_t)length);
  else (void)!sendto(udp_fd, frame, (size_t)length, 0, (struct sockaddr *)&qemu, sizeof qemu);
}

static void flush_held(int to_tap, struct direction *d) {
  if (d->held_length) emit(to_tap, d->held, d->held_length);
  d->held_length = 0;
}

static void relay(int to_tap, struct direction *d, const unsigned char *frame, ssize_t length) {
  d->frames++;
  if (chance() < loss) {
    d->dropped++;
    return;
  }
  if (!d->held_length && chance() < reorder) {
    memcpy(d->held, frame, (size_t)length);
    d->held_length = length;
    d->reordered++;
    return;
  }
  emit(to_tap, frame, length);
  if (chance() < duplicate) {
    d->duplicated++;
    emit(to_tap, frame, length);
  }
  flush_held(to_tap, d);
}

int main(int argc, char **argv) {
  if (argc != 8) fail(EXIT_USAGE, "usage: fault-relay <tap-name> <local-udp-port> <qemu-udp-port> <loss-%%> <reorder-%%> <duplicate-%%> <seed>");
  const char *tap_name = argv[1];
  long local_port = port(argv[2]), qemu_port = port(argv[3]);
  loss = percent(argv[4]);
  reorder = percent(argv[5]);
  duplicate = percent(argv[6]);
  state = strtoull(argv[7], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;

  tap_fd = open("/dev/net/tun", O_RDWR);
  if (tap_fd < 0) fail(EXIT_SYSTEM, "cannot open /dev/net/tun: %s", strerror(errno));
  struct ifreq request;
  memset(&request, 0, sizeof request);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (strlen(tap_name) >= IFNAMSIZ) fail(EXIT_USAGE, "interface name too long: %s", tap_name);
  strcpy(request.ifr_name, tap_name);
  if (ioctl(tap_fd, TUNSETIFF, &request) < 0) fail(EXIT_SYSTEM, "cannot attach to tap %s: %s", tap_name, strerror(errno));
  /* A QEMU that used this tap with a virtio-net header left its offloads on (partial checksums, 64 KiB
     segments). This relay reads plain frames: with the offloads off the kernel completes and cuts them. */
  if (ioctl(tap_fd, TUNSETOFFLOAD, 0UL) < 0) fail(EXIT_SYSTEM, "cannot turn the offloads of tap %s off: %s", tap_name, strerror(errno));

  udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (udp_fd < 0) fail(EXIT_SYSTEM, "cannot open a UDP socket: %s", strerror(errno));
  int buffer = 4 << 20;
  setsockopt(udp_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  setsockopt(udp_fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons((uint16_t)local_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (bind(udp_fd, (struct sockaddr *)&local, sizeof local) < 0) fail(EXIT_SYSTEM, "cannot bind 127.0.0.1:%ld: %s", local_port, strerror(errno));
  qemu = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)qemu_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

  struct sigaction action = { .sa_handler = on_signal };
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  static struct direction to_guest = { .name = "to guest" }, to_host = { .name = "to host" };
  static unsigned char frame[MAX_FRAME];
  printf("relaying\n");
  fflush(stdout);
  struct pollfd fds[2] = { { .fd = tap_fd, .events = POLLIN }, { .fd = udp_fd, .events = POLLIN } };
  while (!stopping) {
    int timeout = to_guest.held_length || to_host.held_length ? HOLD_MS : -1;
    int ready = poll(fds, 2, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail(EXIT_SYSTEM, "poll: %s", strerror(errno));
    }
    if (ready == 0) {
      flush_held(0, &to_guest);
      flush_held(1, &to_host);
      continue;
    }
    if (fds[0].revents & POLLIN) {
      ssize_t length = read(tap_fd, frame, sizeof frame);
      if (length > 0) relay(0, &to_guest, frame, length);
    }
    if (fds[1].revents & POLLIN) {
      struct sockaddr_in from;
      socklen_t from_length = sizeof from;
      ssize_t length = recvfrom(udp_fd, frame, sizeof frame, 0, (struct sockaddr *)&from, &from_length);
      if (length > 0 && from.sin_port == qemu.sin_port) relay(1, &to_host, frame, length);
    }
  }
  struct direction *both[2] = { &to_guest, &to_host };
  for (int i = 0; i < 2; i++) {
    printf("%s: frames %lu, dropped %lu, duplicated %lu, reordered %lu\n", both[i]->name, both[i]->frames, both[i]->dropped,
           both[i]->duplicated, both[i]->reordered);
  }
  fflush(stdout);
  return 0;
}
