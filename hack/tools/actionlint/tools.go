//go:build tools

// Package tools pins actionlint, the GitHub Actions workflow linter `make
// lint` runs on .github/workflows; hack/tools/install-actionlint.sh builds it
// from here so that the product's go.mod never sees it.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
