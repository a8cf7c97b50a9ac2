//go:build tools

// Package tools records the program this module builds.
package tools

import _ "go.etcd.io/etcd/server/v3/etcdmain"
