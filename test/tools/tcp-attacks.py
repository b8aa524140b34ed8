#!/usr/bin/python3
"""tcp-attacks: crafted TCP peers for the network hardening tests (issue 17), with scapy (Debian's
python3-scapy). Run inside the test's network namespace, as root. Prints one JSON line with what it
measured; exit status 0 when the exchange completed (the caller judges the numbers), 1 on a timeout or
failure, 2 on bad arguments.

  tcp-attacks.py zero-window <iface> <guest> <fake-address> <port> <bytes> <window> <hold-ms>
      Plays a receiver from <fake-address> (answering ARP for it, so the host's own stack never sees
      the connection): asks the guest's source service on <port> for <bytes>, offers a <window>-byte
      receive buffer that fills and then advertises a zero window for <hold-ms>; then takes the next zero-window probe byte and
      acknowledges probe + 1 with a 65,535 window, the window update that Linux sends with it and no
      other (as if the separate update had been lost); then receives to the end.
      { received, patternOk, probes, ms, done }   (pattern: byte i is i % 251)

  tcp-attacks.py ooo-flood <iface> <guest> <port> <count> <rate>
      Opens a connection with the host's own stack to the guest's discard service on <port>, learns its
      sequence numbers from the handshake on the wire, injects <count> one-byte segments with a hole
      before each (bytes 1, 3, 5, ... of the stream) at <rate> a second, then sends the whole stream
      (2 * count + 1 bytes) through the socket, ends, and reads the guest's byte count.
      { injected, sent, peerCount, floodMs, ms }
"""
import json
import random
import socket
import sys
import threading
import time

from scapy.all import ARP, IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr  # type: ignore

TIMEOUT_S = 120


def done(result, started):
    result["ms"] = round((time.monotonic() - started) * 1000)
    print(json.dumps(result), flush=True)


def zero_window(iface, guest, fake, port, total, window, hold_ms):
    started = time.monotonic()
    mac = get_if_hwaddr(iface)
    l2 = conf.L2socket(iface=iface)
    guest_mac = {"value": None}
    sport = random.randint(20000, 60000)
    isn = random.getrandbits(32)
    state = {
        "rcv_nxt": None,  # next byte expected from the guest (absolute sequence)
        "snd_nxt": isn,
        "received": bytearray(),
        "phase": "syn",  # syn -> open -> zero -> open-again -> closed
        "zero_since": None,
        "probes": 0,
        "done": False,
        "guest_isn": None,
    }
    lock = threading.Lock()
    finished = threading.Event()

    def send_tcp(flags, payload=b"", win=65535, options=None):
        packet = Ether(src=mac, dst=guest_mac["value"] or "ff:ff:ff:ff:ff:ff") / IP(src=fake, dst=guest) / TCP(
            sport=sport,
            dport=port,
            flags=flags,
            seq=state["snd_nxt"],
            ack=state["rcv_nxt"] or 0,
            window=win,
            options=options or [],
        )
        if payload:
            packet = packet / Raw(payload)
        l2.send(packet)

    def on_packet(packet):
        if ARP in packet and packet[ARP].op == 1 and packet[ARP].pdst == fake:
            guest_mac["value"] = packet[ARP].hwsrc
            l2.send(Ether(src=mac, dst=packet[ARP].hwsrc) / ARP(op=2, hwsrc=mac, psrc=fake, hwdst=packet[ARP].hwsrc, pdst=packet[ARP].psrc))
            return
        if TCP not in packet or IP not in packet or packet[IP].src != guest or packet[IP].dst != fake:
            return
        tcp = packet[TCP]
        if tcp.dport != sport:
            return
        guest_mac["value"] = packet[Ether].src
        with lock:
            flags = int(tcp.flags)
            data = bytes(tcp.payload) if Raw in tcp else b""
            if state["phase"] == "syn":
                if flags & 0x12 == 0x12 and tcp.ack == (isn + 1) & 0xFFFFFFFF:
                    state["guest_isn"] = tcp.seq
                    state["snd_nxt"] = (isn + 1) & 0xFFFFFFFF
                    state["rcv_nxt"] = (tcp.seq + 1) & 0xFFFFFFFF
                    state["phase"] = "open"
                    send_tcp("A", win=window)
                    request = b"%d\n" % total
                    send_tcp("PA", request, win=window)
                    state["snd_nxt"] = (state["snd_nxt"] + len(request)) & 0xFFFFFFFF
                return
            if flags & 0x04:
                state["phase"] = "closed"
                finished.set()
                return
            offset = (tcp.seq - state["rcv_nxt"]) & 0xFFFFFFFF
            if data:
                if state["phase"] == "open":
                    room = window - len(state["received"])
                    if offset == 0 and room > 0:
                        take = data[:room]
                        state["received"] += take
                        state["rcv_nxt"] = (state["rcv_nxt"] + len(take)) & 0xFFFFFFFF
                    if len(state["received"]) >= window:
                        state["phase"] = "zero"
                        state["zero_since"] = time.monotonic()
                    send_tcp("A", win=max(0, window - len(state["received"])))
                    return
                if state["phase"] == "zero":
                    if offset == 0 and len(data) == 1:
                        state["probes"] += 1
                    if offset == 0 and (time.monotonic() - state["zero_since"]) * 1000 >= hold_ms:
                        # Take the probe byte and open the window in the same ACK (no separate update).
                        state["received"] += data[:1]
                        state["rcv_nxt"] = (state["rcv_nxt"] + 1) & 0xFFFFFFFF
                        state["phase"] = "open-again"
                        send_tcp("A", win=65535)
                    else:
                        send_tcp("A", win=0)
                    return
                # open-again: a plain receiver
                if offset == 0:
                    state["received"] += data
                    state["rcv_nxt"] = (state["rcv_nxt"] + len(data)) & 0xFFFFFFFF
                send_tcp("A", win=65535)
            if flags & 0x01 and ((tcp.seq + len(data)) & 0xFFFFFFFF) == state["rcv_nxt"]:
                state["rcv_nxt"] = (state["rcv_nxt"] + 1) & 0xFFFFFFFF
                send_tcp("FA")
                state["snd_nxt"] = (state["snd_nxt"] + 1) & 0xFFFFFFFF
                state["done"] = True
                state["phase"] = "closed"
                finished.set()

    sniffer = AsyncSniffer(iface=iface, prn=on_packet, store=False, filter=f"arp or (tcp and host {fake})")
    sniffer.start()
    time.sleep(0.5)
    with lock:
        send_tcp("S", win=window, options=[("MSS", 1460)])
    deadline = time.monotonic() + TIMEOUT_S
    last_syn = time.monotonic()
    while not finished.wait(0.2):
        now = time.monotonic()
        if now > deadline:
            break
        with lock:
            if state["phase"] == "syn" and now - last_syn > 1:
                last_syn = now
                send_tcp("S", win=window, options=[("MSS", 1460)])
    sniffer.stop()
    received = bytes(state["received"])
    pattern_ok = all(b == i % 251 for i, b in enumerate(received))
    done(
        {"received": len(received), "patternOk": pattern_ok, "probes": state["probes"], "done": state["done"]},
        started,
    )
    return 0 if state["done"] else 1


def ooo_flood(iface, guest, port, count, rate):
    started = time.monotonic()
    handshake = {}

    def on_packet(packet):
        if TCP not in packet or IP not in packet:
            return
        tcp = packet[TCP]
        flags = int(tcp.flags)
        if packet[IP].dst == guest and tcp.dport == port and flags & 0x12 == 0x02:
            handshake["sport"] = tcp.sport
            handshake["isn"] = tcp.seq
            handshake["mac"] = packet[Ether].dst
            handshake["own_mac"] = packet[Ether].src
            handshake["source"] = packet[IP].src
        elif packet[IP].src == guest and tcp.sport == port and flags & 0x12 == 0x12:
            handshake["guest_isn"] = tcp.seq

    sniffer = AsyncSniffer(iface=iface, prn=on_packet, store=False, filter=f"tcp and host {guest} and port {port}")
    sniffer.start()
    time.sleep(0.5)
    connection = socket.create_connection((guest, port), timeout=TIMEOUT_S)
    deadline = time.monotonic() + 5
    while "guest_isn" not in handshake and time.monotonic() < deadline:
        time.sleep(0.05)
    sniffer.stop()
    if "guest_isn" not in handshake or handshake["sport"] != connection.getsockname()[1]:
        print("tcp-attacks: did not see the handshake", file=sys.stderr)
        return 1
    l2 = conf.L2socket(iface=iface)
    stream = bytes((i * 7 + 3) & 0xFF for i in range(2 * count + 1))
    base = (handshake["isn"] + 1) & 0xFFFFFFFF
    ack = (handshake["guest_isn"] + 1) & 0xFFFFFFFF
    template = Ether(src=handshake["own_mac"], dst=handshake["mac"]) / IP(src=handshake["source"], dst=guest)
    flood_started = time.monotonic()
    for i in range(count):
        offset = 2 * i + 1
        segment = template / TCP(sport=handshake["sport"], dport=port, flags="A", seq=(base + offset) & 0xFFFFFFFF, ack=ack, window=65535) / Raw(
            stream[offset : offset + 1]
        )
        l2.send(segment)
        wait = flood_started + (i + 1) / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    flood_ms = round((time.monotonic() - flood_started) * 1000)
    connection.sendall(stream)
    connection.shutdown(socket.SHUT_WR)
    answer = b""
    connection.settimeout(TIMEOUT_S)
    while True:
        chunk = connection.recv(4096)
        if not chunk:
            break
        answer += chunk
    connection.close()
    done({"injected": count, "sent": len(stream), "peerCount": int(answer.strip() or b"-1"), "floodMs": flood_ms}, started)
    return 0


def main(argv):
    conf.verb = 0
    if len(argv) == 9 and argv[1] == "zero-window":
        return zero_window(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), int(argv[7]), int(argv[8]))
    if len(argv) == 7 and argv[1] == "ooo-flood":
        return ooo_flood(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
