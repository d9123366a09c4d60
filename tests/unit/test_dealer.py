"""server.dealer: the parent deals each accepted connection to the next server process that
takes it; a process gone is skipped until it is forked again."""
import socket

from server.dealer import Dealer


def _receive(end: socket.socket) -> socket.socket | None:
    end.settimeout(0.5)
    try:
        _, fds, _, _ = socket.recv_fds(end, 16, 4)
    except TimeoutError:
        return None
    return socket.socket(fileno=fds[0]) if fds else None


def test_connections_go_to_the_processes_in_turn_skipping_one_gone():
    dealer = Dealer([])
    ends = {slot: dealer.channel(slot) for slot in range(3)}
    try:
        got = []
        for _ in range(6):
            ours, theirs = socket.socketpair()
            with ours:
                assert dealer.deal(ours)
            got.append(theirs)
        received = {slot: [] for slot in ends}
        for slot, end in ends.items():
            while (conn := _receive(end)) is not None:
                received[slot].append(conn)
        assert [len(conns) for conns in received.values()] == [2, 2, 2]
        # What a process is handed is the connection itself: the client's peer answers.
        handed = received[0][0]
        handed.sendall(b"ping")
        assert any(peer.recv(4, socket.MSG_DONTWAIT) == b"ping" for peer in got
                   if _readable(peer))
        # Process 1 dies: its connections go to the others until it is forked again.
        ends.pop(1).close()
        for _ in range(4):
            ours, theirs = socket.socketpair()
            with ours, theirs:
                assert dealer.deal(ours)
        assert [_count(ends[0]), _count(ends[2])] == [2, 2]
        ends[1] = dealer.channel(1)
        ours, theirs = socket.socketpair()
        with ours, theirs:
            assert dealer.deal(ours)
        assert _count(ends[0]) + _count(ends[1]) + _count(ends[2]) == 1
        for conns in received.values():
            for conn in conns:
                conn.close()
        for peer in got:
            peer.close()
    finally:
        dealer.stop()
        for end in ends.values():
            end.close()


def test_without_a_live_process_the_connection_is_not_dealt():
    dealer = Dealer([])
    dealer.channel(0).close()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not dealer.deal(ours)
    dealer.stop()


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False


def _count(end: socket.socket) -> int:
    count = 0
    while (conn := _receive(end)) is not None:
        conn.close()
        count += 1
    return count
