package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Var describes one setting of Config, from its struct tags.
type Var struct {
	Name    string // the environment variable
	Default string
	// Secret: a credential, from the environment or the central Secret
	// only, and shown as set or unset.
	Secret bool
	// Central: the central ConfigMap (or, when Secret, the central Secret)
	// may set it.
	Central bool
}

// Vars lists every setting, in Config's order.
func Vars() []Var {
	t := reflect.TypeFor[Config]()
	var out []Var
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		out = append(out, Var{
			Name:    name,
			Default: f.Tag.Get("default"),
			Secret:  f.Tag.Get("secret") == "true",
			Central: f.Tag.Get("central") != "false" && !strings.HasSuffix(name, "_FILE"),
		})
	}
	return out
}

// FromLookup parses the settings that lookup gives, every other one at its
// default, and reads the *_FILE settings' files; it does not Validate.
// It is what envconfig.Process did with the process environment (a test
// holds the two equal), for any source: internal/settings feeds it the
// layers merged. A variable that is set, even to "", is parsed; an unset
// one takes its default.
func FromLookup(lookup func(string) (string, bool)) (*Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		s, ok := lookup(name)
		if !ok {
			if s, ok = f.Tag.Lookup("default"); !ok || s == "" {
				continue
			}
		}
		if err := setField(v.Field(i), name, s); err != nil {
			return nil, err
		}
	}
	if err := c.readFiles(); err != nil {
		return nil, err
	}
	return &c, nil
}

// objectName is a Kubernetes object name (DNS subdomain).
var objectName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// checkChannel accepts what Slack takes as a channel for chat.postMessage:
// a name with or without "#" (letters of any script, digits, - _ .), or an
// ID. Anything else is refused, not passed on: a channel can come from an
// Application annotation that any app team writes, and "<!channel>", a
// link or a control character must never reach a message or a log as is.
func checkChannel(name, v string) error {
	if v == "" {
		return nil
	}
	s := strings.TrimPrefix(v, "#")
	ok := s != "" && utf8.RuneCountInString(s) <= 80 && utf8.ValidString(s)
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%s=%q: not a channel name (#deploys, deploys) or ID (C0123…): letters, digits, - _ . only, at most 80", name, v)
	}
	return nil
}
