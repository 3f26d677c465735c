package authstore

import (
	"net"
	"testing"
	"time"
)

// TestServerSpoke checks the idle-connection peek on a real TCP connection:
// nothing waiting is silent; bytes waiting, or the peer's close, is spoken;
// and the peek consumes nothing and never waits, even while another
// goroutine is blocked reading the connection (as pgconn's background
// reader can be).
func TestServerSpoke(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (client, server net.Conn) {
		t.Helper()
		accepted := make(chan net.Conn, 1)
		go func() { c, _ := ln.Accept(); accepted <- c }()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return client, <-accepted
	}
	eventually := func(want bool, c net.Conn, what string) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); serverSpoke(c) != want; {
			if time.Now().After(deadline) {
				t.Fatalf("serverSpoke after %s = %v; want %v", what, !want, want)
			}
			time.Sleep(time.Millisecond)
		}
	}

	client, server := pair()
	defer client.Close()
	if serverSpoke(client) {
		t.Fatal("serverSpoke on an idle connection = true; want false")
	}
	if _, err := server.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	eventually(true, client, "the server wrote a byte")
	b := make([]byte, 1)
	if n, err := client.Read(b); n != 1 || b[0] != 'E' || err != nil {
		t.Fatalf("Read after the peek = %d, %q, %v; want the byte the peek left", n, b[:n], err)
	}
	if serverSpoke(client) {
		t.Fatal("serverSpoke after the byte was read = true; want false")
	}
	server.Close()
	eventually(true, client, "the server closed")

	// A goroutine blocked reading holds the connection's read lock.
	client2, server2 := pair()
	defer client2.Close()
	defer server2.Close()
	go func() { _, _ = client2.Read(make([]byte, 1)) }()
	time.Sleep(20 * time.Millisecond)
	done := make(chan bool, 1)
	go func() { done <- serverSpoke(client2) }()
	select {
	case got := <-done:
		if got {
			t.Fatal("serverSpoke on an idle connection with a blocked reader = true; want false")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serverSpoke waited for a blocked reader")
	}
}
