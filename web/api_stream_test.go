package web_test

// The event stream read as raw bytes off the connection, chunk by chunk
// (api-v2-devices.md §3): the exact Content-Type, one whole line (or one
// whole "data: …\n\n" message) per flushed chunk, never a blank line,
// pings, filters, errors as a line, and the stream's end.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"studio/app"
	"studio/domain"
)

// rawStream is an HTTP/1.1 response read off the socket: the status, the
// headers, and the body's chunks as the server flushed them.
type rawStream struct {
	t      *testing.T
	conn   net.Conn
	status int
	header textproto.MIMEHeader
	chunks chan []byte
	// body is the whole body of a response that is not chunked.
	body []byte
}

func openRawStream(t *testing.T, a *testApp, path, auth, accept string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", a.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "GET " + path + " HTTP/1.1\r\nHost: studio.test\r\nAccept-Encoding: gzip, deflate\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	if accept != "" {
		req += "Accept: " + accept + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	statusLine, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("status line: %v", err)
	}
	parts := strings.SplitN(statusLine, " ", 3)
	s := &rawStream{t: t, conn: conn, chunks: make(chan []byte, 1000)}
	if len(parts) < 2 {
		t.Fatalf("status line %q", statusLine)
	}
	s.status, _ = strconv.Atoi(parts[1])
	if s.header, err = tp.ReadMIMEHeader(); err != nil {
		t.Fatalf("headers: %v", err)
	}
	if s.header.Get("Transfer-Encoding") != "chunked" {
		n, _ := strconv.Atoi(s.header.Get("Content-Length"))
		s.body = make([]byte, n)
		if _, err := io.ReadFull(br, s.body); err != nil {
			t.Fatalf("body: %v", err)
		}
		close(s.chunks)
		return s
	}
	conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(s.chunks)
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil || size == 0 {
				return
			}
			chunk := make([]byte, size)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return
			}
			if _, err := tp.ReadLine(); err != nil { // the CRLF after the chunk
				return
			}
			s.chunks <- chunk
		}
	}()
	return s
}

// next returns the next chunk, or nil when the stream ended.
func (s *rawStream) next(within time.Duration) []byte {
	s.t.Helper()
	select {
	case c, ok := <-s.chunks:
		if !ok {
			return nil
		}
		return c
	case <-time.After(within):
		s.t.Fatalf("no chunk within %s", within)
		return nil
	}
}

// messages splits a chunk into its JSON objects, requiring the framing:
// whole "\n"-ended lines, or whole "data: …\n\n" messages, nothing blank.
func (s *rawStream) messages(chunk []byte, sse bool) [][]byte {
	s.t.Helper()
	var out [][]byte
	if sse {
		for len(chunk) > 0 {
			end := bytes.Index(chunk, []byte("\n\n"))
			if !bytes.HasPrefix(chunk, []byte("data: ")) || end < 0 {
				s.t.Fatalf("chunk %q is not whole data: messages", chunk)
			}
			msg := chunk[len("data: "):end]
			if bytes.Contains(msg, []byte("\n")) {
				s.t.Fatalf("a message spans lines: %q", msg)
			}
			out = append(out, msg)
			chunk = chunk[end+2:]
		}
		return out
	}
	if len(chunk) == 0 || chunk[len(chunk)-1] != '\n' {
		s.t.Fatalf("chunk %q does not end a line", chunk)
	}
	for _, line := range bytes.Split(chunk[:len(chunk)-1], []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			s.t.Fatalf("a blank line in %q: Python decodes every line", chunk)
		}
		for _, b := range line {
			if b >= 0x80 {
				s.t.Fatalf("a non-ASCII byte in %q: Python decodes lines as ASCII", line)
			}
		}
		out = append(out, line)
	}
	return out
}

// event reads the next stream message as {"result":{"event":…}}, skipping
// pings unless wantPing.
func (s *rawStream) event(sse, wantPing bool) apiEvent {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		chunk := s.next(10 * time.Second)
		if chunk == nil {
			s.t.Fatal("the stream ended")
		}
		for _, msg := range s.messages(chunk, sse) {
			m := apiObject(s.t, msg, "result")
			ev := apiDecodeEvent(s.t, apiObject(s.t, m["result"], "event")["event"])
			if ev.EventType == "ping" && !wantPing {
				continue
			}
			return ev
		}
	}
	s.t.Fatal("no event")
	return apiEvent{}
}

// streamError reads a stream error line {"error":{"code":…,"message":…}}.
func streamError(t *testing.T, msg []byte, code int) string {
	t.Helper()
	m := apiObject(t, msg, "error")
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	apiStrict(t, m["error"], &e, "code", "message")
	if e.Code != code || e.Message == "" {
		t.Fatalf("stream error %s, want code %d", msg, code)
	}
	return e.Message
}

func TestAPIStreamJSONLines(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiStreamFlow(t, scheme, false) })
	}
}

func TestAPIStreamServerSentEvents(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiStreamFlow(t, scheme, true) })
	}
}

func apiStreamFlow(t *testing.T, scheme string, sse bool) {
	e := newDevEnv(t)
	reader := e.auth(e.user, scheme)
	dev := e.auth(e.dev, "basic")
	d := e.emulate(dev, e.plant, "temperature", map[string]string{"name": "Kjøleskap 1"})
	other := e.emulate(dev, e.plant, "touch", nil)
	accept := ""
	if sse {
		accept = "text/event-stream"
	}
	s := openRawStream(t, e.app, "/v2/projects/"+e.plant.ID+"/devices:stream?ping_interval=1s", reader, accept)
	if s.status != http.StatusOK {
		t.Fatalf("status %d", s.status)
	}
	wantType := map[bool]string{false: "application/json", true: "text/event-stream"}[sse]
	if ct := s.header.Get("Content-Type"); ct != wantType {
		t.Fatalf("Content-Type %q, want exactly %q", ct, wantType)
	}
	if enc := s.header.Get("Content-Encoding"); enc != "" {
		t.Fatalf("the stream is %s-encoded: lines must reach the client as they are written", enc)
	}
	if s.header.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("the stream is not chunked: %v", s.header)
	}

	// A ping first (nothing else happens within a second).
	ping := s.event(sse, true)
	if ping.EventType != "ping" || ping.TargetName != "projects/"+e.plant.ID {
		t.Fatalf("first message %+v, want a ping of projects/%s", ping, e.plant.ID)
	}

	// Events in commit order, with their bodies whole.
	e.publish(dev, d, `{"temperature":{"value":3.5}}`)
	e.publish(dev, other, `{"touch":{}}`)
	first := s.event(sse, false)
	second := s.event(sse, false)
	if first.TargetName != d.Name || first.EventType != "temperature" || second.TargetName != other.Name || second.EventType != "touch" {
		t.Fatalf("events %+v then %+v", first, second)
	}
	if !strings.Contains(string(first.Data), `"value":3.5`) {
		t.Errorf("data %s", first.Data)
	}
	// A label change goes to the stream as labelsChanged, its data the body;
	// the new name holds a non-ASCII letter, escaped in the line.
	r := e.call(http.MethodPost, "/v2/projects/"+e.plant.ID+"/devices:batchUpdate", dev,
		map[string]any{"devices": []string{d.Name}, "addLabels": map[string]string{"name": "Kjøleskap 2", "room": "b"}, "removeLabels": []string{"virtual-sensor"}})
	apiOK(t, r)
	lc := s.event(sse, false)
	if lc.EventType != "labelsChanged" || lc.TargetName != d.Name {
		t.Fatalf("after a label change: %+v", lc)
	}
	var body domain.LabelsChangedBody
	if err := json.Unmarshal(lc.Data, &body); err != nil {
		t.Fatal(err)
	}
	if body.Added["room"] != "b" || body.Modified["name"] != "Kjøleskap 2" || len(body.Removed) != 1 || body.Removed[0] != "virtual-sensor" {
		t.Fatalf("labelsChanged %s", lc.Data)
	}
	// ... and it is not in the history (the Swift client says it never is).
	items, _ := apiList(t, e.call(http.MethodGet, "/v2/"+d.Name+"/events", reader, nil), "events")
	for _, it := range items {
		if apiDecodeEvent(t, it).EventType == "labelsChanged" {
			t.Fatal("labelsChanged is in the history")
		}
	}
}

// TestAPIStreamFilters: each filter lets through what it names only.
func TestAPIStreamFilters(t *testing.T) {
	e := newDevEnv(t)
	dev := e.auth(e.dev, "basic")
	a := e.emulate(dev, e.plant, "temperature", map[string]string{"room": "cold"})
	b := e.emulate(dev, e.plant, "touch", map[string]string{"room": "warm"})
	c := e.emulate(dev, e.plant, "proximity", nil)
	q := e.emulate(e.auth(e.admin, "basic"), e.quarry, "temperature", nil)
	P := "/v2/projects/" + e.plant.ID + "/devices:stream"
	cases := []struct {
		query string
		want  []string // device names of the events let through, in order
	}{
		{"", []string{a.Name, a.Name, b.Name, c.Name}},
		{"?device_ids=" + b.id(), []string{b.Name}},
		{"?device_types=temperature&device_types=proximity", []string{a.Name, a.Name, c.Name}},
		{"?label_filters=room=cold", []string{a.Name, a.Name}},
		{"?label_filters=room", []string{a.Name, a.Name, b.Name}},
		{"?event_types=batteryStatus&event_types=objectPresent", []string{a.Name, c.Name}},
		{"?eventTypes=touch&deviceTypes=touch", []string{b.Name}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			s := openRawStream(t, e.app, P+tc.query, e.auth(e.user, "basic"), "")
			if s.status != http.StatusOK {
				t.Fatalf("status %d: %s", s.status, s.body)
			}
			e.publish(dev, a, `{"temperature":{"value":1}}`)
			e.publish(e.auth(e.admin, "basic"), q, `{"temperature":{"value":1}}`) // another project: never
			e.publish(dev, a, `{"batteryStatus":{"percentage":50}}`)
			e.publish(dev, b, `{"touch":{}}`)
			e.publish(dev, c, `{"objectPresent":{"state":"PRESENT"}}`)
			var got []string
			for range tc.want {
				got = append(got, s.event(false, false).TargetName)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("%s: events of %v, want %v", tc.query, got, tc.want)
			}
			// Nothing else arrives: a last event the filter takes comes next.
			e.publish(dev, c, `{"touch":{}}`)
			e.publish(dev, a, `{"touch":{}}`)
			e.publish(dev, b, `{"touch":{}}`)
			e.publish(dev, a, `{"batteryStatus":{"percentage":49}}`)
			e.publish(dev, c, `{"objectPresent":{"state":"NOT_PRESENT"}}`)
			next := s.event(false, false)
			if !strings.Contains(tc.query, "device_ids") && !strings.Contains(tc.query, "event_types") && !strings.Contains(tc.query, "eventTypes") && next.EventType != "touch" {
				t.Fatalf("%s: after the expected events came %+v", tc.query, next)
			}
		})
	}
}

// TestAPIStreamErrors: refusals are one error line, in the stream's framing,
// under the error's status.
func TestAPIStreamErrors(t *testing.T) {
	e := newDevEnv(t)
	P := "/v2/projects/" + e.plant.ID + "/devices:stream"
	outsider := e.caller(e.apiEnv.admin, e.quarry, "Outsider")
	cases := []struct {
		name, path, auth string
		status           int
	}{
		{"no credentials", P, "", 401},
		{"wrong secret", P, apiBasic(e.user.KeyID, strings.Repeat("0", 32)), 401},
		{"no access to the project", P, e.auth(outsider, "basic"), 404},
		{"unknown project", "/v2/projects/" + domain.NewID(time.Now()) + "/devices:stream", e.auth(e.user, "basic"), 404},
		{"bad ping interval", P + "?ping_interval=often", e.auth(e.user, "basic"), 400},
		{"bad event type", P + "?event_types=weather", e.auth(e.user, "basic"), 400},
		{"bad device type", P + "?device_types=thermometer", e.auth(e.user, "basic"), 400},
	}
	for _, c := range cases {
		for _, sse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sse=%v", c.name, sse), func(t *testing.T) {
				accept := map[bool]string{false: "application/json", true: "text/event-stream"}[sse]
				s := openRawStream(t, e.app, c.path, c.auth, accept)
				if s.status != c.status {
					t.Fatalf("status %d, want %d: %s", s.status, c.status, s.body)
				}
				if ct := s.header.Get("Content-Type"); ct != accept {
					t.Fatalf("Content-Type %q, want %q", ct, accept)
				}
				body := s.body
				if body == nil {
					body = s.next(5 * time.Second)
				}
				msgs := s.messages(body, sse)
				if len(msgs) != 1 {
					t.Fatalf("%d messages, want one error: %q", len(msgs), body)
				}
				streamError(t, msgs[0], c.status)
			})
		}
	}
}

// TestAPIStreamEnds: a stream closes after its maximum age, ends with a
// 401 line once its key is deleted, and is dropped (with an error line,
// and counted) when it falls behind, without holding up publishers.
func TestAPIStreamEnds(t *testing.T) {
	t.Run("max age", func(t *testing.T) {
		e := newDevEnv(t, withServer(func(c *app.ServerConfig) { c.StreamMaxAge = 300 * time.Millisecond }))
		s := openRawStream(t, e.app, "/v2/projects/"+e.plant.ID+"/devices:stream", e.auth(e.user, "basic"), "")
		start := time.Now()
		for {
			if c := s.next(5 * time.Second); c == nil {
				break
			} else if len(c) > 0 {
				t.Fatalf("unexpected chunk %q", c)
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("the stream lasted %s, its maximum age is 300ms", d)
		}
	})
	t.Run("key deleted", func(t *testing.T) {
		e := newDevEnv(t, withServer(func(c *app.ServerConfig) { c.StreamRecheck = 100 * time.Millisecond }))
		for _, scheme := range apiSchemes {
			s := openRawStream(t, e.app, "/v2/projects/"+e.plant.ID+"/devices:stream", e.auth(e.user, scheme), "")
			if s.status != 200 {
				t.Fatalf("status %d", s.status)
			}
			if scheme == "bearer" {
				if err := e.svc.DeleteKey(context.Background(), e.apiEnv.admin, e.plant.ID, e.user.SA.ID, e.user.KeyID); err != nil {
					t.Fatal(err)
				}
			}
			if scheme == "basic" {
				// Take the role away instead: the stream ends with 404 (the project is no longer readable).
				if err := e.app.store.Update(context.Background(), func(tx domain.Tx) error {
					m, err := tx.ProjectMembership(context.Background(), e.plant.ID, e.user.SA.Ref())
					if err != nil {
						return err
					}
					return tx.DeleteMembership(context.Background(), m)
				}); err != nil {
					t.Fatal(err)
				}
			}
			var chunk []byte
			for chunk = s.next(5 * time.Second); chunk != nil && len(chunk) == 0; chunk = s.next(5 * time.Second) {
			}
			if chunk == nil {
				t.Fatalf("%s: the stream ended without an error line", scheme)
			}
			want := map[string]int{"basic": 404, "bearer": 401}[scheme]
			streamError(t, s.messages(chunk, false)[0], want)
			if s.next(5*time.Second) != nil {
				t.Fatalf("%s: the stream goes on after its error", scheme)
			}
			if scheme == "basic" {
				e.grant(e.user.SA.Ref(), e.app.org.ID, e.plant.ID, domain.RoleProjectUser)
			}
		}
	})
	t.Run("slow reader", func(t *testing.T) {
		e := newDevEnv(t, withServer(func(c *app.ServerConfig) { c.StreamBuffer = 2 }))
		s := openRawStream(t, e.app, "/v2/projects/"+e.plant.ID+"/devices:stream", e.auth(e.user, "basic"), "")
		if s.status != 200 {
			t.Fatalf("status %d", s.status)
		}
		// 200 events in one delivery: the stream's buffer of 2 overflows at once.
		events := make([]domain.Event, 200)
		for i := range events {
			events[i] = domain.Event{ID: domain.NewID(time.Now()), DeviceID: "emu00000000000000000000", ProjectID: e.plant.ID,
				Type: domain.EventTouch, Time: time.Now(), Body: json.RawMessage(`{"updateTime":"2026-01-01T00:00:00.000000Z"}`)}
		}
		done := make(chan struct{})
		go func() { e.app.services.Hub.Publish(events); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a full stream held up the publisher")
		}
		var last []byte
		for c := s.next(5 * time.Second); c != nil; c = s.next(5 * time.Second) {
			last = c
		}
		msgs := s.messages(last, false)
		streamError(t, msgs[len(msgs)-1], http.StatusServiceUnavailable)
		if st := e.app.services.Hub.Stats(); st.Dropped != 1 || st.Subscriptions != 0 {
			t.Fatalf("hub %+v, want one dropped, none left", st)
		}
	})
}
