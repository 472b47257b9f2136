package handlers

import (
	"net/http"

	"studio/views"

	"github.com/labstack/echo/v4"
)

const flashCookie = "studio_flash"

// flashesKey holds the messages set during this request, so that a second
// message joins the first instead of replacing it.
const flashesKey = "studio.flashes"

// setFlash stores a message for the next page, in a signed short-lived cookie,
// so it works before sign-in too and needs no session row.
func (h *Handlers) setFlash(c echo.Context, kind, text string) {
	flashes, _ := c.Get(flashesKey).([]views.Flash)
	flashes = append(flashes, views.Flash{Kind: kind, Text: text})
	encoded, err := h.flash.Encode(flashCookie, flashes)
	if err != nil {
		return
	}
	c.Set(flashesKey, flashes)
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: encoded, Path: "/", MaxAge: 300,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads and clears the pending messages.
func (h *Handlers) takeFlash(c echo.Context) []views.Flash {
	ck, err := c.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
	var flashes []views.Flash
	if h.flash.Decode(flashCookie, ck.Value, &flashes) != nil {
		return nil
	}
	return flashes
}
