//go:build tools

// Package tools pins mailpit, the SMTP server the email tests send to;
// hack/tools/install-mailpit.sh builds it from here so that the product's
// go.mod never sees it.
package tools

import _ "github.com/axllent/mailpit"
