// Package static embeds the console's stylesheet, script and vendored htmx.
//
// htmx is htmx.org 2.0.11 from npm (dist/htmx.min.js), sha256
// d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717.
package static

import "embed"

// FS holds the files served under /static/.
//
//go:embed *.css *.js *.svg
var FS embed.FS
