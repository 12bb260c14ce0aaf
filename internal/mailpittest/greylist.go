//go:build unix

package mailpittest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Greylister stands in front of an SMTP server: it answers the first n
// connections itself, refusing every recipient with 451 as greylisting
// does, and passes later ones through.
type Greylister struct {
	// Port is where it listens on 127.0.0.1.
	Port       int
	greylisted atomic.Int32
}

// Greylisted is how many recipients it refused.
func (g *Greylister) Greylisted() int { return int(g.greylisted.Load()) }

// Greylist starts a Greylister in front of upstream (host:port) until the
// test ends.
func Greylist(t testing.TB, upstream string, n int32) *Greylister {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Greylister{Port: ln.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	var conns atomic.Int32
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if conns.Add(1) <= n {
				wg.Go(func() { g.refuse(c) })
				continue
			}
			wg.Go(func() { proxy(c, upstream) })
		}
	})
	return g
}

func (g *Greylister) refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "220 greylist ESMTP\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO":
			io.WriteString(c, "250-greylist\r\n250 8BITMIME\r\n")
		case "RCPT":
			g.greylisted.Add(1)
			io.WriteString(c, "451 4.7.1 greylisted, try again later\r\n")
		case "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			io.WriteString(c, "250 ok\r\n")
		}
	}
}

func proxy(c net.Conn, upstream string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
}
