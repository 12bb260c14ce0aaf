package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// streamer reads LIST pages as a stream and hands over one object at a
// time, as JSON. The dynamic client decodes a whole page into maps first —
// about 10 MB for 500 pods — which would make memory follow the
// namespace's size; streamed, it stays flat whatever the page size, so
// pages can be large and requests few.
type streamer struct{ c rest.Interface }

func newStreamer(cfg *rest.Config) (*streamer, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = "/apis"
	c.GroupVersion = &schema.GroupVersion{}
	// Errors still decode to typed StatusErrors (Forbidden, NotFound).
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.UnversionedRESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("diagnose: %w", err)
	}
	return &streamer{rc}, nil
}

// page GETs one LIST page of gvr in ns and hands each item to keep; it
// returns the continue token.
func (s *streamer) page(ctx context.Context, gvr schema.GroupVersionResource, ns, fieldSelector, cont string, limit int64, keep func(raw []byte)) (string, error) {
	next, _, err := (&Pager{s}).Page(ctx, gvr, ns, fieldSelector, cont, limit, keep)
	return next, err
}

// Pager reads LIST pages as a stream, one object at a time, for readers
// other than Diagnose (the gate): see streamer.
type Pager struct{ s *streamer }

// NewPager returns a Pager on the cluster of cfg.
func NewPager(cfg *rest.Config) (*Pager, error) {
	s, err := newStreamer(cfg)
	if err != nil {
		return nil, err
	}
	return &Pager{s}, nil
}

// Page GETs one LIST page of gvr in ns and hands each item to keep as JSON
// (valid only during the call); it returns the continue token and the
// list's resourceVersion.
func (p *Pager) Page(ctx context.Context, gvr schema.GroupVersionResource, ns, fieldSelector, cont string, limit int64, keep func(raw []byte)) (next, resourceVersion string, err error) {
	path := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		path = "/api/" + gvr.Version
	}
	req := p.s.c.Get().AbsPath(path, "namespaces", ns, gvr.Resource).Param("limit", strconv.FormatInt(limit, 10))
	if cont != "" {
		req = req.Param("continue", cont)
	}
	if fieldSelector != "" {
		req = req.Param("fieldSelector", fieldSelector)
	}
	body, err := req.Stream(ctx)
	if err != nil {
		return "", "", err
	}
	defer body.Close()
	return decodeList(body, keep)
}

// decodeList walks a List document token by token: metadata.continue is
// kept and each element of items is handed to keep as raw JSON, so the
// caller decodes only the objects, and the fields, it keeps. raw is valid
// only during the call: its buffer is reused for the next item.
func decodeList(r io.Reader, keep func(raw []byte)) (next, rv string, err error) {
	dec := json.NewDecoder(r)
	if err := expect(dec, json.Delim('{')); err != nil {
		return "", "", err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", "", fmt.Errorf("list: %w", err)
		}
		switch tok {
		case "metadata":
			var m struct {
				Continue        string `json:"continue"`
				ResourceVersion string `json:"resourceVersion"`
			}
			if err := dec.Decode(&m); err != nil {
				return "", "", fmt.Errorf("list metadata: %w", err)
			}
			next, rv = m.Continue, m.ResourceVersion
		case "items":
			tok, err := dec.Token()
			if err != nil {
				return "", "", fmt.Errorf("list: %w", err)
			}
			if tok == nil { // "items": null
				continue
			}
			if tok != json.Delim('[') {
				return "", "", fmt.Errorf("list: items is %v, not an array", tok)
			}
			var raw json.RawMessage
			for dec.More() {
				if err := dec.Decode(&raw); err != nil {
					return "", "", fmt.Errorf("list item: %w", err)
				}
				keep(raw)
			}
			if err := expect(dec, json.Delim(']')); err != nil {
				return "", "", err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", "", fmt.Errorf("list: %w", err)
			}
		}
	}
	return next, rv, nil
}

func expect(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if tok != want {
		return fmt.Errorf("list: want %v, got %v", want, tok)
	}
	return nil
}
