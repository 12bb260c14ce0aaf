package health

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// maxLogLine bounds one log line; a minified JSON log line can be huge.
const maxLogLine = 500

// LogSource reads the tail of a container's log.
type LogSource interface {
	// TailLogs returns the last lines of the container's log; previous
	// selects the instance that ran before the current one, which is the
	// one that crashed in a CrashLoopBackOff.
	TailLogs(ctx context.Context, namespace, pod, container string, previous bool, lines int) ([]string, error)
}

// NewLogSource returns a LogSource that GETs pods/log through a bare REST
// client: the typed core/v1 client would link every API group's scheme
// into the binary.
func NewLogSource(cfg *rest.Config) (LogSource, error) {
	if cfg == nil {
		return nil, errors.New("log source: no rest config")
	}
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &schema.GroupVersion{Version: "v1"}
	// A scheme with metav1.Status alone, so API errors decode to typed
	// StatusErrors (Forbidden, NotFound, BadRequest).
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("log source: %w", err)
	}
	return restLogs{rc}, nil
}

type restLogs struct{ c rest.Interface }

func (l restLogs) TailLogs(ctx context.Context, namespace, pod, container string, previous bool, lines int) ([]string, error) {
	req := l.c.Get().Namespace(namespace).Resource("pods").Name(pod).SubResource("log").
		Param("container", container).
		Param("tailLines", strconv.Itoa(lines)).
		// Bound the body even if lines are long.
		Param("limitBytes", strconv.Itoa(lines*maxLogLine*2))
	if previous {
		req = req.Param("previous", "true")
	}
	b, err := req.DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return splitLog(string(b), lines), nil
}

// splitLog keeps the last n non-empty lines, each bounded.
func splitLog(s string, n int) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		l = strings.TrimRight(l, "\r")
		if len(l) > maxLogLine {
			// Cut on a character boundary: half a character would make a
			// valid line invalid UTF-8.
			cut := maxLogLine
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			l = l[:cut] + "…"
		}
		out = append(out, l)
	}
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// readLogs fetches the logs of the crashed containers named in causes,
// within what is left of the request budget. Logs are extra: a failure
// becomes a note, never a Partial diagnosis.
func (d *diagnoser) readLogs(ctx context.Context, items []*item) {
	for _, it := range items {
		is := it.issue
		if is == nil || is.container == "" || is.pod == "" {
			continue
		}
		ns := it.result.Ref.Namespace
		switch {
		case d.requests >= d.opts.MaxRequests:
			it.result.addNote(fmt.Sprintf("logs not read (request cap %d reached)", d.opts.MaxRequests))
			continue
		case ctx.Err() != nil:
			it.result.addNote("logs not read (" + ctx.Err().Error() + ")")
			continue
		}
		d.requests++
		lines, err := d.opts.Logs.TailLogs(ctx, ns, is.pod, is.container, is.previous, d.opts.LogLines)
		switch {
		case err == nil:
			it.result.Logs = lines
		case apierrors.IsForbidden(err):
			it.result.addNote("logs not read (forbidden: cannot get pods/log in namespace " + ns + ")")
		default:
			it.result.addNote("logs not read (" + oneLine(err.Error()) + ")")
		}
	}
}
