package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
)

// Set at link time (make build, the Dockerfile, the release workflow):
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…". The Makefile
// takes the version from the VERSION file and the date from the commit, so
// two builds of one commit are identical.
var version, commit, date string

// init fills what the linker did not set from the binary's own build
// information, so that the User-Agent and `hook version` say the same thing.
func init() {
	info, _ := debug.ReadBuildInfo()
	version, commit, date = resolveVersion(version, commit, date, info)
}

// resolveVersion prefers the link-time values, then what Go recorded in the
// binary (the module version of `go install …@v0.1.0`; vcs.revision and
// vcs.time of a build in a git checkout), and says "unknown" for the rest:
// never a guess.
func resolveVersion(version, commit, date string, info *debug.BuildInfo) (string, string, string) {
	if info != nil {
		if version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		var rev, at string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if commit == "" && rev != "" {
			commit = rev
			if modified {
				commit += "-dirty"
			}
		}
		if date == "" {
			date = at
		}
	}
	for _, v := range []*string{&version, &commit, &date} {
		if *v == "" {
			*v = "unknown"
		}
	}
	return version, commit, date
}

// runVersion prints the version, commit and build date, as text or JSON.
func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return kindError{errUsage, err}
	}
	if fs.NArg() > 0 {
		return usageErr("version takes no arguments, got %q", fs.Arg(0))
	}
	switch *format {
	case "text":
		_, err := fmt.Fprintf(stdout, "syncreport %s\ncommit: %s\ndate: %s\n", version, commit, date)
		return err
	case "json":
		return json.NewEncoder(stdout).Encode(struct {
			Version string `json:"version"`
			Commit  string `json:"commit"`
			Date    string `json:"date"`
		}{version, commit, date})
	}
	return usageErr("--format %q: want text or json", *format)
}
