// Command etcd is etcd 3.5 built from the Go module proxy for the test cluster.
// Debian's etcd 3.4 lacks RequestWatchProgress, which kube-apiserver needs for
// client-go watches, so we build our own.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
