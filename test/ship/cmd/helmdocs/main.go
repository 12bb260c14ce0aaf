// Command helmdocs regenerates the values table in a chart's README.md from
// the `# --` comments in its values.yaml (see package helmdocs):
//
//	go run ./test/ship/cmd/helmdocs helm/syncreport
//
// With -check it changes nothing and exits 1 when the table is stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/syncreport/syncreport/test/ship/helmdocs"
)

func main() {
	check := flag.Bool("check", false, "exit 1 if README.md is stale instead of writing it")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: helmdocs [-check] CHART_DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	code := 0
	for _, dir := range flag.Args() {
		if err := run(dir, *check); err != nil {
			fmt.Fprintln(os.Stderr, "helmdocs:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func run(dir string, check bool) error {
	values, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := helmdocs.Generate(values, readme)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if bytes.Equal(out, readme) {
		return nil
	}
	if check {
		return fmt.Errorf("%s is stale: run go run ./test/ship/cmd/helmdocs %s", path, dir)
	}
	return os.WriteFile(path, out, 0o644)
}
