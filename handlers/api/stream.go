package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"studio/domain"
	"studio/handlers/httpx"

	"github.com/labstack/echo/v4"
)

// The event stream, GET /v2/projects/{p}/devices:stream (api-v2-devices.md §3).
//
// Two framings, chosen by Accept: by default (Python) one compact JSON
// object per "\n"-ended line, never a blank line (the client decodes
// every line); with Accept: text/event-stream (Swift) each message is
// "data: <the same JSON>\n\n" in one write. Each line or message is
// flushed at once. Errors are a line too, {"error":{"code":…,"message":…}},
// because Python reads the code from the line, not the status. Lines are
// ASCII (other characters \u-escaped): Python decodes them as ASCII.

// Stream settings.
const (
	// DefaultStreamMaxAge closes a stream after about an hour, as the original does.
	DefaultStreamMaxAge = time.Hour
	// DefaultStreamRecheck is how often a stream checks that its
	// credentials and the caller's access still hold.
	DefaultStreamRecheck = time.Minute
	// streamWriteTimeout bounds one write to a client that stopped reading.
	streamWriteTimeout = 30 * time.Second
	// Pings are asked as a duration (ping_interval=10s) in these bounds.
	minPingInterval = time.Second
	maxPingInterval = time.Hour
)

// isStreamPath reports whether path is an event stream's, whose errors
// are written as a stream line.
func isStreamPath(path string) bool {
	return strings.HasPrefix(path, "/v2/") && strings.HasSuffix(path, "/devices:stream")
}

// wantsEventStream reports whether the client asked for server-sent events.
func wantsEventStream(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		t, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(t), "text/event-stream") {
			return true
		}
	}
	return false
}

// streamFrame frames one JSON object for the stream's format.
func streamFrame(sse bool, obj []byte) []byte {
	obj = asciiJSON(obj)
	if sse {
		out := make([]byte, 0, len(obj)+8)
		out = append(out, "data: "...)
		out = append(out, obj...)
		return append(out, '\n', '\n')
	}
	return append(obj, '\n')
}

// asciiJSON escapes every non-ASCII character of compact JSON as \uXXXX
// (they occur only inside strings, where the escape means the same).
func asciiJSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 16)
	out.Write(b[:i])
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			out.WriteByte(b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		} else {
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

type streamErrorJSON struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func streamErrorLine(sse bool, code int, message string) []byte {
	var e streamErrorJSON
	e.Error.Code, e.Error.Message = code, message
	b, _ := json.Marshal(e)
	return streamFrame(sse, b)
}

type streamResultJSON struct {
	Result struct {
		Event eventJSON `json:"event"`
	} `json:"result"`
}

func streamEventLine(sse bool, e eventJSON) []byte {
	var r streamResultJSON
	r.Result.Event = e
	b, _ := json.Marshal(r)
	return streamFrame(sse, b)
}

// eventLines are an event's line in both framings, made once per event
// for every stream that sends it (domain.Event.Memo).
type eventLines struct{ json, sse []byte }

func linesOf(e domain.Event) eventLines {
	return e.Memo.Get(func() any {
		j := streamEventLine(false, toEvent(e))
		return eventLines{json: j, sse: append(append([]byte("data: "), j[:len(j)-1]...), '\n', '\n')}
	}).(eventLines)
}

func (l eventLines) frame(sse bool) []byte {
	if sse {
		return l.sse
	}
	return l.json
}

// streamContentType is the stream's Content-Type, exactly: Swift compares
// the whole value.
func streamContentType(sse bool) string {
	if sse {
		return "text/event-stream"
	}
	return "application/json"
}

// writeStreamError answers a stream request that fails before it starts
// with the error as a line, under the error's status.
func writeStreamError(c echo.Context, status int, message string) {
	sse := wantsEventStream(c.Request().Header.Get("Accept"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, streamContentType(sse))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	_, _ = c.Response().Write(streamErrorLine(sse, status, message))
}

// parsePingInterval reads ping_interval ("10s"); "" asks for no pings.
func parsePingInterval(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < minPingInterval || d > maxPingInterval {
		return 0, domain.FieldError("ping_interval", "ping_interval must be a duration from 1s to 1h, such as 10s.")
	}
	return d, nil
}

// StreamDevices is GET /v2/projects/{p}/devices:stream.
func (a *API) StreamDevices(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	sse := wantsEventStream(req.Header.Get("Accept"))
	ping, err := parsePingInterval(query(c, "ping_interval", "pingInterval"))
	if err != nil {
		return err
	}
	projectID := c.Param("project")
	q := domain.StreamQuery{Devices: deviceQuery(c), EventTypes: queryList(c, true, "event_types", "eventTypes")}
	q.Devices.Query, q.Devices.OrderBy = "", ""
	sub, err := a.devices.Stream(ctx, principal(c), projectID, q, a.streamBuffer)
	if err != nil {
		return err
	}
	defer sub.Close()

	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's read timeout would end the request (and its context)
	// half a minute in: a stream reads nothing more.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, streamContentType(sse))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy must not hold lines back
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write(nil); err != nil {
		return nil
	}

	maxAge := time.NewTimer(a.streamMaxAge)
	defer maxAge.Stop()
	recheck := time.NewTicker(a.streamRecheck)
	defer recheck.Stop()
	var pings <-chan time.Time
	if ping > 0 {
		t := time.NewTicker(ping)
		defer t.Stop()
		pings = t.C
	}
	auth, remote := req.Header.Get("Authorization"), c.RealIP()
	var batch []byte
	for {
		var line []byte
		select {
		case <-ctx.Done():
			return nil
		case <-maxAge.C:
			return nil
		case <-sub.Lagged():
			httpx.Logger(ctx).Warn("event stream dropped: its reader fell behind", "project", projectID)
			_ = write(streamErrorLine(sse, http.StatusServiceUnavailable,
				"The stream fell behind the events and was closed; reconnect to go on (events in between are not replayed)."))
			return nil
		case e := <-sub.Events():
			line = linesOf(e).frame(sse)
			if !sse && len(sub.Events()) > 0 {
				// JSON lines: the events already waiting go in the same
				// write (Python reads line by line whatever the chunks),
				// gathered in the stream's own buffer. Server-sent events
				// keep one message a write: Swift parses each chunk on its own.
				batch = append(batch[:0], line...)
				for more := true; more && len(batch) < 64<<10; {
					select {
					case e := <-sub.Events():
						batch = append(batch, linesOf(e).json...)
					default:
						more = false
					}
				}
				line = batch
			}
		case <-pings:
			now := a.now()
			line = streamEventLine(sse, eventJSON{EventID: domain.NewID(now), TargetName: projectName(projectID),
				EventType: string(domain.EventPing), Data: json.RawMessage("null"), Timestamp: timestamp(now)})
		case <-recheck.C:
			// A key or account deleted, or a role taken away, ends the stream.
			p, err := a.credentials(ctx, auth, remote)
			if err == nil {
				_, err = a.devices.Authorize(ctx, p, projectID, domain.OpDeviceRead)
			}
			if err != nil {
				pr := httpx.ProblemOf(err)
				msg := pr.Message
				if msg == "" {
					msg = "Internal error."
				}
				_ = write(streamErrorLine(sse, pr.Status, msg))
				return nil
			}
			continue
		}
		if err := write(line); err != nil {
			return nil
		}
	}
}
