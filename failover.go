package authstore

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sys/unix"
)

// pingIdle is how long a pooled PostgreSQL connection may sit idle before
// it is pinged anyway on its way out of the pool (pgx's default).
const pingIdle = time.Second

// shouldPing decides, each time database/sql takes a PostgreSQL connection
// of a pool Open made out of the idle list, whether pgx pings it first. A
// ping that fails makes the driver report driver.ErrBadConn, and
// database/sql then takes another connection, and after two such a new
// one, so a statement is sent on a connection the server already closed
// only if the close was not yet visible. That is what a failover, a
// restart or pg_terminate_backend does to every pooled connection at once
// (SECURITY 31): the server sends an error and closes, and the next
// statement on each connection would fail.
//
// An idle connection that has something to read, or an end of file, has
// been spoken to by the server, which says nothing unasked but to end the
// session (or a notification, which a ping handles as well): that is
// checked without waiting, by peeking at the socket, for about a
// microsecond. A connection idle longer than pingIdle is pinged as pgx
// does by default.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	return p.IdleDuration > pingIdle || serverSpoke(p.Conn.PgConn().Conn())
}

// serverSpoke reports whether c, an idle connection, has bytes waiting or
// has been closed by its peer, without reading anything or waiting.
// Anything it cannot tell counts as spoken (the ping decides).
func serverSpoke(c net.Conn) bool {
	if w, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = w.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	// Control, not Read: Read would wait for the connection's read lock,
	// which pgconn's background reader can hold, blocked in a read, on an
	// idle connection. A peek consumes nothing, so it may run beside it.
	spoke := true
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		// No error: a byte, or 0 bytes for an end of file. EAGAIN: nothing.
		spoke = !errors.Is(err, unix.EAGAIN)
	})
	return spoke || err != nil
}
