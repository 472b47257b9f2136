package handlers

import "github.com/labstack/echo/v4"

// htmx's request and response headers (htmx.org/reference/#headers), named
// once: the console reads and sets them only through what follows.
const (
	hxRequest    = "HX-Request"
	hxBoosted    = "HX-Boosted"
	hxCurrentURL = "HX-Current-URL"
	hxPushURL    = "HX-Push-Url"
	hxReplaceURL = "HX-Replace-Url"
	hxRedirect   = "HX-Redirect"
	hxRetarget   = "HX-Retarget"
	hxReswap     = "HX-Reswap"
)

// isHTMX reports whether htmx sent the request (a fragment or a boosted page).
func isHTMX(c echo.Context) bool { return c.Request().Header.Get(hxRequest) != "" }

// isFragment reports whether htmx asked for a part of the page (not a
// boosted whole-page navigation).
func isFragment(c echo.Context) bool { return isHTMX(c) && c.Request().Header.Get(hxBoosted) == "" }

// hxCurrentPage is the page htmx sent the request from ("" without htmx).
func hxCurrentPage(c echo.Context) string { return c.Request().Header.Get(hxCurrentURL) }

// hxVary tells caches that the answer depends on whether htmx asked.
func hxVary(c echo.Context) { c.Response().Header().Add("Vary", hxRequest) }

// hxNoPush keeps the address bar as it is.
func hxNoPush(c echo.Context) { c.Response().Header().Set(hxPushURL, "false") }

// hxReplaceURLWith puts url in the address bar without a history entry.
func hxReplaceURLWith(c echo.Context, url string) { c.Response().Header().Set(hxReplaceURL, url) }

// hxRedirectTo makes htmx load url as a whole page.
func hxRedirectTo(c echo.Context, url string) { c.Response().Header().Set(hxRedirect, url) }

// hxSwapInto swaps the answer into target (a CSS selector) with swap,
// instead of where the request asked.
func hxSwapInto(c echo.Context, target, swap string) {
	c.Response().Header().Set(hxRetarget, target)
	c.Response().Header().Set(hxReswap, swap)
}

// hxNoSwap swaps nothing: what the page shows stays as it is.
func hxNoSwap(c echo.Context) { c.Response().Header().Set(hxReswap, "none") }
