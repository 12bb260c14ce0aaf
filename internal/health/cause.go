package health

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/types"
)

// maxLine bounds a cause or event line; the report is a chat message.
const maxLine = 300

// Severity of a pod issue, to pick the one pod worth naming.
const (
	sevWarning    = 1 // a Warning event on the pod, nothing worse
	sevNotReady   = 2 // readiness probe failing
	sevScheduling = 3 // unschedulable, or restarting after a crash
	sevFatal      = 4 // will not fix itself: crash loop, OOM, image, config
)

// podIssue is what is wrong with one pod.
type podIssue struct {
	severity int
	restarts int32
	pod      string
	text     string // the whole line, "pod NAME: …"
	// container and previous say whose logs explain the issue: the crashed
	// container, and whether its previous instance is the one that crashed.
	container string
	previous  bool
	// finished is when the failed container stopped, to prefer the most
	// recent failure of a Job.
	finished time.Time
}

// worse reports whether a should be named instead of b.
func (a podIssue) worse(b podIssue) bool {
	if a.severity != b.severity {
		return a.severity > b.severity
	}
	if !a.finished.Equal(b.finished) {
		return a.finished.After(b.finished)
	}
	if a.restarts != b.restarts {
		return a.restarts > b.restarts
	}
	return a.pod < b.pod
}

// PodCause names, in one line starting with "pod NAME: ", what keeps a pod
// from running: a crash loop with its exit code and termination message, an
// OOM kill and the memory limit, an image that cannot be pulled, a missing
// ConfigMap or Secret key, the scheduler's complaint, a failing readiness
// probe (from its Unhealthy events) or else the pod's latest Warning event.
// events may hold any events of the namespace; only the pod's are used. It
// returns "" when nothing is wrong that the pod shows.
func PodCause(pod *Pod, events []Event) string {
	return diagnosePod(pod, events).text
}

func diagnosePod(pod *Pod, events []Event) podIssue {
	is := podIssueOf(pod, events)
	// Names and reasons come from the API as written by anyone: keep the
	// line a line.
	is.text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, is.text)
	return is
}

func podIssueOf(pod *Pod, events []Event) podIssue {
	if pod == nil || pod.Status.Phase == podSucceeded {
		return podIssue{}
	}
	evs := eventsFor(events, "Pod", pod.Name, pod.UID)
	prefix := "pod " + pod.Name + ": "
	issue := podIssue{pod: pod.Name}
	for _, cs := range pod.Status.ContainerStatuses {
		issue.restarts += cs.RestartCount
	}

	// A container that will not run is the most specific cause there is.
	best := podIssue{}
	for i, statuses := range [][]ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for j := range statuses {
			c := containerIssue(pod, &statuses[j], i == 0, evs)
			if c.severity > 0 && (best.severity == 0 || c.worse(best)) {
				best = c
			}
		}
	}
	if best.severity > 0 {
		best.pod, best.restarts = pod.Name, issue.restarts
		best.text = prefix + best.text
		return best
	}

	if c := podCondition(pod, podScheduled); c != nil && c.Status == conditionFalse && c.Reason == podReasonUnschedulable {
		msg := c.Message
		if msg == "" {
			if e := firstEvent(evs, "FailedScheduling"); e != nil {
				msg = e.Message
			}
		}
		issue.severity, issue.text = sevScheduling, prefix+"unschedulable: "+oneLine(msg)
		return issue
	}

	if pod.Status.Phase == podFailed && pod.Status.Reason != "" {
		// Evicted, DeadlineExceeded, NodeLost, …: the kubelet says why.
		issue.severity = sevFatal
		issue.text = prefix + pod.Status.Reason
		if pod.Status.Message != "" {
			issue.text += ": " + oneLine(pod.Status.Message)
		}
		return issue
	}

	if pod.Status.Phase == podRunning && !podReady(pod) {
		for _, e := range evs {
			if e.Type == eventWarning && e.Reason == "Unhealthy" && strings.HasPrefix(e.Message, "Readiness probe") {
				name := eventContainer(e)
				if name == "" {
					name = firstNotReady(pod)
				}
				issue.severity = sevNotReady
				issue.text = prefix + fmt.Sprintf("container %q not ready: %s%s", name, oneLine(e.Message), times(e.Count))
				return issue
			}
		}
	}

	if podReady(pod) {
		return podIssue{}
	}
	scheduled := podCondition(pod, podScheduled)
	for _, e := range evs {
		if e.Reason == "FailedScheduling" && scheduled != nil && scheduled.Status == conditionTrue {
			continue // history: the pod has a node now
		}
		if e.Type == eventWarning {
			issue.severity = sevWarning
			issue.text = prefix + e.Reason + ": " + oneLine(e.Message) + times(e.Count)
			return issue
		}
	}
	return podIssue{}
}

// containerIssue judges one container status; text lacks the pod prefix.
func containerIssue(pod *Pod, cs *ContainerStatus, init bool, evs []*Event) podIssue {
	label := fmt.Sprintf("container %q", cs.Name)
	if init {
		label = "init " + label
	}
	w, t, last := cs.State.Waiting, cs.State.Terminated, cs.LastTerminationState.Terminated
	is := podIssue{container: cs.Name}
	switch {
	case last != nil && last.Reason == "OOMKilled" && !cs.Ready && (w != nil || cs.State.Running != nil):
		is.severity, is.previous, is.finished = sevFatal, true, last.FinishedAt.Time
		is.text = label + " " + oom(pod, cs.Name, last.ExitCode, cs.RestartCount)
	case t != nil && t.Reason == "OOMKilled":
		is.severity, is.finished = sevFatal, t.FinishedAt.Time
		is.text = label + " " + oom(pod, cs.Name, t.ExitCode, cs.RestartCount)

	case w != nil && w.Reason == "CrashLoopBackOff":
		is.severity, is.previous = sevFatal, true
		is.text = label + " CrashLoopBackOff"
		if last != nil {
			is.finished = last.FinishedAt.Time
			is.text += ", " + exitCode(last, cs.RestartCount) + crashDetail(last, cs.Name, evs)
		} else {
			is.text += restarts(cs.RestartCount)
		}

	case w != nil && isImageReason(w.Reason):
		is.severity, is.container = sevFatal, ""
		image := cs.Image
		if image == "" {
			image = specImage(pod, cs.Name)
		}
		detail := w.Message
		// ImagePullBackOff only says "Back-off pulling image"; the
		// registry's answer is in the last Failed event.
		for _, e := range evs {
			if e.Type == eventWarning && e.Reason == "Failed" && strings.Contains(e.Message, "pull") &&
				(eventContainer(e) == "" || eventContainer(e) == cs.Name) {
				detail = e.Message
				break
			}
		}
		is.text = fmt.Sprintf("%s %s, image %q", label, w.Reason, image)
		if detail != "" {
			is.text += ": " + oneLine(detail)
		}

	case w != nil && w.Reason == "CreateContainerConfigError":
		is.severity, is.container = sevFatal, ""
		is.text = label + " CreateContainerConfigError: " + configError(w.Message, pod.Namespace)

	case w != nil && errorWaitingReason(w.Reason):
		// CreateContainerError, RunContainerError, PostStartHookError, …
		is.severity, is.container = sevFatal, ""
		is.text = label + " " + w.Reason
		if w.Message != "" {
			is.text += ": " + oneLine(w.Message)
		}

	case t != nil && t.ExitCode != 0:
		// Run-to-completion pods (Jobs) and failed init containers.
		is.severity, is.finished = sevFatal, t.FinishedAt.Time
		is.text = label + " failed, " + exitCode(t, cs.RestartCount) + crashDetail(t, cs.Name, evs)

	case cs.State.Running != nil && !cs.Ready && last != nil && last.ExitCode != 0:
		// Between two back-offs a crash-looping container shows Running.
		is.severity, is.previous, is.finished = sevScheduling, true, last.FinishedAt.Time
		is.text = label + " restarting, last " + exitCode(last, cs.RestartCount) + crashDetail(last, cs.Name, evs)
	}
	return is
}

func isImageReason(r string) bool {
	switch r {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable", "SignatureValidationFailed":
		return true
	}
	return false
}

// exitCode renders "exit code 1 (3 restarts)"; the reason is added when it
// says more than "Error".
func exitCode(t *ContainerStateTerminated, restartCount int32) string {
	s := fmt.Sprintf("exit code %d", t.ExitCode)
	var extra []string
	if t.Reason != "" && t.Reason != "Error" && t.Reason != "Completed" {
		extra = append(extra, t.Reason)
	}
	if restartCount > 0 {
		extra = append(extra, plural(int(restartCount), "restart"))
	}
	if t.Signal != 0 {
		extra = append(extra, fmt.Sprintf("signal %d", t.Signal))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func restarts(n int32) string {
	if n == 0 {
		return ""
	}
	return " (" + plural(int(n), "restart") + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func times(n int32) string {
	if n > 1 {
		return fmt.Sprintf(" (%d times)", n)
	}
	return ""
}

// crashDetail is ": <termination message>", or else the liveness or startup
// probe failure that got the container killed.
func crashDetail(t *ContainerStateTerminated, container string, evs []*Event) string {
	if m := terminationLine(t.Message); m != "" {
		return ": " + m
	}
	for _, e := range evs {
		if e.Reason == "Unhealthy" && (eventContainer(e) == "" || eventContainer(e) == container) &&
			(strings.HasPrefix(e.Message, "Liveness probe") || strings.HasPrefix(e.Message, "Startup probe")) {
			return ": " + oneLine(e.Message)
		}
	}
	return ""
}

func oom(pod *Pod, container string, code int32, restartCount int32) string {
	s := fmt.Sprintf("OOMKilled, exit code %d, ", code)
	if lim := memoryLimit(pod, container); lim != "" {
		s += "memory limit " + lim
	} else {
		s += "no memory limit"
	}
	return s + restarts(restartCount)
}

func memoryLimit(pod *Pod, container string) string {
	for _, list := range [][]Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name != container {
				continue
			}
			if q, ok := c.Resources.Limits["memory"]; ok {
				return q.String()
			}
			return ""
		}
	}
	return ""
}

func specImage(pod *Pod, container string) string {
	for _, list := range [][]Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == container {
				return c.Image
			}
		}
	}
	return ""
}

var (
	// Kubelet wording, pkg/kubelet/kubelet_pods.go makeEnvironmentVariables.
	reMissingKey    = regexp.MustCompile(`couldn't find key (\S+) in (ConfigMap|Secret) (\S+)`)
	reMissingObject = regexp.MustCompile(`(?i)\b(configmap|secret) "([^"]+)" not found`)
)

// configError names the missing ConfigMap or Secret (key) when the kubelet's
// message is recognizable, and returns the message otherwise.
func configError(msg, namespace string) string {
	if m := reMissingKey.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("missing key %s in %s %s", m[1], m[2], m[3])
	}
	if m := reMissingObject.FindStringSubmatch(msg); m != nil {
		kind := "Secret"
		if strings.EqualFold(m[1], "configmap") {
			kind = "ConfigMap"
		}
		return fmt.Sprintf("missing %s %s/%s", kind, namespace, m[2])
	}
	return oneLine(msg)
}

var reErrorLine = regexp.MustCompile(`(?i)panic|fatal|error|exception|fail`)

// terminationLine picks the telling line of a termination message: with
// terminationMessagePolicy FallbackToLogsOnError it is a log tail, where the
// first line naming an error beats the last line of a stack trace.
func terminationLine(msg string) string {
	msg = strings.TrimSpace(msg)
	if !strings.Contains(msg, "\n") {
		return oneLine(msg)
	}
	var last string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if reErrorLine.MatchString(l) {
			return oneLine(l)
		}
		last = l
	}
	return oneLine(last)
}

// oneLine folds whitespace and bounds the length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxLine {
		return s
	}
	r := []rune(s)
	return string(r[:maxLine-1]) + "…"
}

func firstNotReady(pod *Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if !cs.Ready {
			return cs.Name
		}
	}
	return ""
}

// eventsFor returns the events that involve the object, newest first. A
// UID on both sides must match: StatefulSet pods reuse names.
func eventsFor(events []Event, kind, name string, uid types.UID) []*Event {
	var out []*Event
	for i := range events {
		io := &events[i].InvolvedObject
		if io.Kind != kind || io.Name != name {
			continue
		}
		if uid != "" && io.UID != "" && io.UID != uid {
			continue
		}
		out = append(out, &events[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).After(eventTime(out[j])) })
	return out
}

func firstEvent(evs []*Event, reason string) *Event {
	for _, e := range evs {
		if e.Reason == reason {
			return e
		}
	}
	return nil
}

// EventTime is when the event was last seen (see eventTime).
func EventTime(e *Event) time.Time { return eventTime(e) }

// eventTime is when the event was last seen. Events written through
// events.k8s.io/v1 carry eventTime and series instead of the timestamps.
func eventTime(e *Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// eventContainer reads the container from a fieldPath like "spec.containers{app}".
func eventContainer(e *Event) string {
	fp := e.InvolvedObject.FieldPath
	i := strings.IndexByte(fp, '{')
	if i < 0 || !strings.HasSuffix(fp, "}") {
		return ""
	}
	return fp[i+1 : len(fp)-1]
}

// latestWarning renders the newest Warning event as "Reason: message".
func latestWarning(evs []*Event) string {
	for _, e := range evs {
		if e.Type == eventWarning {
			return e.Reason + ": " + oneLine(e.Message) + times(e.Count)
		}
	}
	return ""
}

// worstPod picks the pod to name among pods, and counts the others that
// have an issue too.
func worstPod(pods []*Pod, events []Event) (podIssue, int) {
	var best podIssue
	n := 0
	for _, p := range pods {
		is := diagnosePod(p, events)
		if is.severity == 0 {
			continue
		}
		n++
		if best.severity == 0 || is.worse(best) {
			best = is
		}
	}
	return best, n
}

// withOthers appends "(+N more pods)" when more pods than the named one
// have an issue.
func withOthers(is podIssue, n int) string {
	if n <= 1 {
		return is.text
	}
	return is.text + fmt.Sprintf(" (+%s)", plural(n-1, "more pod"))
}
