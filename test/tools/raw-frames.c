/*
 * raw-frames: sends and counts raw Ethernet frames on a Linux interface (AF_PACKET), for network tests.
 *
 *   raw-frames send <ifname> <count> <ethertype-hex> <dst-mac> [payload-size [first-sequence]]
 *     Sends <count> frames from the interface's own MAC to <dst-mac> with the given ethertype. Each
 *     payload (default 46 bytes, at least 4) starts with a 32-bit big-endian sequence number (from
 *     <first-sequence>, default 0: 0, 1, 2, …) and is filled with the low byte of the sequence number
 *     after that. Prints "sent N". A test that paces frames sends them in slices with a first-sequence.
 *
 *   raw-frames receive <ifname> <ethertype-hex> <count> <timeout-ms>
 *     Prints "listening on <ifname>" once bound, then counts frames of that ethertype arriving on the
 *     interface (not the ones it sends) until <count> arrived or <timeout-ms> passed, and prints
 *     "received N, first seq A, last seq B, missing M, duplicates D": A and B are the sequence numbers
 *     of the first and last frames ("-" when none), M how many of 0 … count-1 never arrived, D how many
 *     frames repeated a sequence number already seen. Sequence numbers of count or more are not
 *     tracked; when there are any, ", out of range R" is appended.
 *
 * Exit status: 0 done; 1 a system call failed; 2 bad arguments; 3 (receive) timed out before <count>.
 * Errors go to stderr, prefixed "raw-frames:". Needs CAP_NET_RAW (root).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_SYSTEM = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3 };
enum { HEADER_SIZE = 14, SEQUENCE_SIZE = 4, MAX_PAYLOAD = 9000 };

static void fail(int status, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  fputs("raw-frames: ", stderr);
  vfprintf(stderr, format, arguments);
  fputc('\n', stderr);
  va_end(arguments);
  exit(status);
}

static int usage(void) {
  fputs("usage:\n"
        "  raw-frames send <ifname> <count> <ethertype-hex> <dst-mac> [payload-size [first-sequence]]\n"
        "  raw-frames receive <ifname> <ethertype-hex> <count> <timeout-ms>\n",
        stderr);
  return EXIT_USAGE;
}

static unsigned long parse_number(const char *text, const char *what, unsigned long minimum, unsigned long maximum) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno || end == text || *end || text[0] == '-' || value < minimum || value > maximum) {
    fail(EXIT_USAGE, "%s must be a whole number from %lu to %lu, got \"%s\"", what, minimum, maximum, text);
  }
  return value;
}

static uint16_t parse_ethertype(const char *text) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 16);
  if (errno || end == text || *end || text[0] == '-' || value < 0x0600 || value > 0xffff) {
    fail(EXIT_USAGE, "ethertype must be hexadecimal from 0600 to ffff (smaller values are 802.3 lengths), got \"%s\"", text);
  }
  return (uint16_t)value;
}

static void parse_mac(const char *text, uint8_t mac[6]) {
  unsigned int bytes[6];
  char extra;
  if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3], &bytes[4], &bytes[5], &extra) != 6) {
    fail(EXIT_USAGE, "destination MAC must look like 52:54:00:12:34:56, got \"%s\"", text);
  }
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)bytes[i];
}

static int interface_index(const char *name) {
  if (strlen(name) >= IFNAMSIZ) fail(EXIT_USAGE, "interface name \"%s\" is too long", name);
  unsigned int index = if_nametoindex(name);
  if (index == 0) fail(EXIT_SYSTEM, "no interface named \"%s\" here (%s)", name, strerror(errno));
  return (int)index;
}

static int packet_socket(void) {
  /* Protocol 0: nothing is queued to the socket before bind() chooses the interface and ethertype. */
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) fail(EXIT_SYSTEM, "cannot open an AF_PACKET socket: %s%s", strerror(errno), errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
  return fd;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_frames(int argc, char **argv) {
  if (argc < 6 || argc > 8) return usage();
  const char *name = argv[2];
  unsigned long count = parse_number(argv[3], "count", 1, 0xffffffffUL);
  uint16_t ethertype = parse_ethertype(argv[4]);
  uint8_t destination[6];
  parse_mac(argv[5], destination);
  size_t payload_size = argc >= 7 ? parse_number(argv[6], "payload size", SEQUENCE_SIZE, MAX_PAYLOAD) : 46;
  unsigned long first = argc == 8 ? parse_number(argv[7], "first sequence", 0, 0xffffffffUL) : 0;
  int index = interface_index(name);
  int fd = packet_socket();

  struct ifreq request;
  memset(&request, 0, sizeof request);
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &request) < 0) fail(EXIT_SYSTEM, "cannot read the MAC address of %s: %s", name, strerror(errno));

  uint8_t frame[HEADER_SIZE + MAX_PAYLOAD];
  memcpy(frame, destination, 6);
  memcpy(frame + 6, request.ifr_hwaddr.sa_data, 6);
  frame[12] = (uint8_t)(ethertype >> 8);
  frame[13] = (uint8_t)ethertype;

  struct sockaddr_ll address;
  memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ethertype);
  address.sll_ifindex = index;
  address.sll_halen = 6;
  memcpy(address.sll_addr, destination, 6);

  unsigned long sent = 0;
  for (; sent < count; sent++) {
    uint32_t sequence = (uint32_t)(first + sent);
    uint8_t *payload = frame + HEADER_SIZE;
    payload[0] = (uint8_t)(sequence >> 24);
    payload[1] = (uint8_t)(sequence >> 16);
    payload[2] = (uint8_t)(sequence >> 8);
    payload[3] = (uint8_t)sequence;
    memset(payload + SEQUENCE_SIZE, (int)(sequence & 0xff), payload_size - SEQUENCE_SIZE);
    int busy = 0;
    for (;;) {
      ssize_t written = sendto(fd, frame, HEADER_SIZE + payload_size, 0, (struct sockaddr *)&address, sizeof address);
      if (written == (ssize_t)(HEADER_SIZE + payload_size)) break;
      if (written >= 0) fail(EXIT_SYSTEM, "frame %lu: only %zd of %zu bytes sent", sent, written, HEADER_SIZE + payload_size);
      if (errno == EINTR) continue;
      /* A full device queue: wait a little (up to 10 s in all) rather than drop the frame. */
      if ((errno == ENOBUFS || errno == EAGAIN) && busy < 100000) {
        busy++;
        usleep(100);
        continue;
      }
      fail(EXIT_SYSTEM, "sending frame %lu on %s failed: %s%s", sent, name, strerror(errno), errno == ENETDOWN ? " (is the interface up?)" : "");
    }
  }
  printf("sent %lu\n", sent);
  return 0;
}

static int receive_frames(int argc, char **argv) {
  if (argc != 6) return usage();
  const char *name = argv[2];
  uint16_t ethertype = parse_ethertype(argv[3]);
  unsigned long count = parse_number(argv[4], "count", 1, 0xffffffffUL);
  unsigned long timeout = parse_number(argv[5], "timeout (ms)", 0, 86400000UL);
  int index = interface_index(name);
  int fd = packet_socket();

  /* Room for bursts: the default receive buffer holds only a few hundred small frames. */
  int buffer_size = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
  }
  struct sockaddr_ll address;
  memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ethertype);
  address.sll_ifindex = index;
  if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) fail(EXIT_SYSTEM, "cannot bind to %s: %s", name, strerror(errno));

  uint8_t *seen = calloc(count / 8 + 1, 1);
  if (!seen) fail(EXIT_SYSTEM, "no memory for %lu sequence numbers", count);
  printf("listening on %s\n", name);
  fflush(stdout);

  unsigned long received = 0, duplicates = 0, out_of_range = 0;
  long long first = -1, last = -1;
  long long deadline = now_ms() + (long long)timeout;
  static uint8_t frame[65536];
  while (received < count) {
    long long remaining = deadline - now_ms();
    if (remaining <= 0) break;
    struct pollfd waiting = { .fd = fd, .events = POLLIN };
    int ready = poll(&waiting, 1, remaining > 1000 ? 1000 : (int)remaining);
    if (ready < 0 && errno != EINTR) fail(EXIT_SYSTEM, "poll failed: %s", strerror(errno));
    if (ready <= 0) continue;
    struct sockaddr_ll from;
    socklen_t from_size = sizeof from;
    ssize_t size = recvfrom(fd, frame, sizeof frame, MSG_DONTWAIT, (struct sockaddr *)&from, &from_size);
    if (size < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fail(EXIT_SYSTEM, "receiving on %s failed: %s", name, strerror(errno));
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue; /* our own side's transmissions */
    if (size < HEADER_SIZE || ((frame[12] << 8) | frame[13]) != ethertype) continue;
    if (size < HEADER_SIZE + SEQUENCE_SIZE) {
      fprintf(stderr, "raw-frames: ignoring a %zd-byte frame too short for a sequence number\n", size);
      continue;
    }
    uint32_t sequence = ((uint32_t)frame[14] << 24) | ((uint32_t)frame[15] << 16) | ((uint32_t)frame[16] << 8) | frame[17];
    received++;
    if (first < 0) first = sequence;
    last = sequence;
    if (sequence >= count) {
      out_of_range++;
    } else if (seen[sequence / 8] & (1u << (sequence % 8))) {
      duplicates++;
    } else {
      seen[sequence / 8] |= (uint8_t)(1u << (sequence % 8));
    }
  }
  unsigned long missing = 0;
  for (unsigned long sequence = 0; sequence < count; sequence++) {
    if (!(seen[sequence / 8] & (1u << (sequence % 8)))) missing++;
  }
  char first_text[16] = "-", last_text[16] = "-";
  if (first >= 0) snprintf(first_text, sizeof first_text, "%lld", first);
  if (last >= 0) snprintf(last_text, sizeof last_text, "%lld", last);
  printf("received %lu, first seq %s, last seq %s, missing %lu, duplicates %lu", received, first_text, last_text, missing, duplicates);
  if (out_of_range) printf(", out of range %lu", out_of_range);
  printf("\n");
  free(seen);
  return received < count ? EXIT_TIMEOUT : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  if (strcmp(argv[1], "send") == 0) return send_frames(argc, argv);
  if (strcmp(argv[1], "receive") == 0) return receive_frames(argc, argv);
  return usage();
}
