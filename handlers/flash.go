package handlers

import (
	"net/http"

	"studio/views"

	"github.com/labstack/echo/v4"
)

const flashCookie = "studio_flash"

// setFlash stores a message for the next page, in a signed short-lived cookie,
// so it works before sign-in too and needs no session row.
func (h *Handlers) setFlash(c echo.Context, kind, text string) {
	encoded, err := h.flash.Encode(flashCookie, views.Flash{Kind: kind, Text: text})
	if err != nil {
		return
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: encoded, Path: "/", MaxAge: 300,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads and clears the pending message.
func (h *Handlers) takeFlash(c echo.Context) []views.Flash {
	ck, err := c.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
	var f views.Flash
	if h.flash.Decode(flashCookie, ck.Value, &f) != nil {
		return nil
	}
	return []views.Flash{f}
}
