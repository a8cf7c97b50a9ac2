package drift

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       string // path[~noise] list
	}{
		{"equal", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, ""},
		{"scalar change", `{"a":1}`, `{"a":2}`, "/a"},
		{"added key", `{"a":1}`, `{"a":1,"b":{"c":1}}`, "/b"},
		{"removed list element", `{"l":[1,2,3]}`, `{"l":[1,2]}`, "/l/2"},
		{"nested", `{"ingress":[{"cidr_blocks":["10.0.0.0/8"]}]}`, `{"ingress":[{"cidr_blocks":["10.0.0.0/8","0.0.0.0/0"]}]}`, "/ingress/0/cidr_blocks/1"},
		{"escaped key", `{"tags":{"a/b":"x"}}`, `{"tags":{"a/b":"y"}}`, "/tags/a~1b"},
		{"null vs empty list is noise", `{"l":null}`, `{"l":[]}`, "/l~noise"},
		{"missing vs empty map is noise", `{}`, `{"m":{}}`, "/m~noise"},
		{"null vs empty string is noise", `{"s":null}`, `{"s":""}`, "/s~noise"},
		{"number as string is noise", `{"n":5}`, `{"n":"5"}`, "/n~noise"},
		{"bool as string is noise", `{"n":true}`, `{"n":"true"}`, "/n~noise"},
		{"json document reordered is noise", `{"p":"{\"a\":1,\"b\":[1,2]}"}`, `{"p":"{ \"b\": [1, 2], \"a\": 1 }"}`, "/p~noise"},
		{"json list order matters outside policies", `{"p":"{\"a\":[1,2]}"}`, `{"p":"{\"a\":[2,1]}"}`, "/p"},
		{"policy scalar vs list and set order are noise",
			`{"p":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get\",\"s3:Put\"],\"Resource\":\"*\"}]}"}`,
			`{"p":"{\"Statement\":{\"Resource\":[\"*\"],\"Effect\":\"Allow\",\"Action\":[\"s3:Put\",\"s3:Get\"]}}"}`, "/p~noise"},
		{"policy real change", `{"p":"{\"Statement\":{\"Action\":\"s3:Get\"}}"}`, `{"p":"{\"Statement\":{\"Action\":\"s3:*\"}}"}`, "/p"},
		{"plain strings are not documents", `{"s":"abc"}`, `{"s":"abd"}`, "/s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a, b any
			if err := json.Unmarshal([]byte(tc.a), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.b), &b); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range Diff(a, b) {
				s := c.Path.String()
				if c.Noise {
					s += "~noise"
				}
				got = append(got, s)
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("Diff = %q, want %q", strings.Join(got, ","), tc.want)
			}
		})
	}
}

func TestIdentityWidened(t *testing.T) {
	doc := func(stmts string) string { return `{"Version":"2012-10-17","Statement":` + stmts + `}` }
	for _, tc := range []struct {
		name, before, after string
		want                bool
	}{
		{"new action", doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), doc(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}`), true},
		{"wildcard action", doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), true},
		{"narrowed resource", doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/x"}`), false},
		{"deny removed", doc(`[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]`), doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), true},
		{"new principal", doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}`), doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*","Service":"ec2.amazonaws.com"}}`), true},
		{"condition dropped", doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), true},
		{"action case differs only", doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), doc(`{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := identityWidened([]Change{{Path: MustPointer("/policy"), Before: tc.before, After: tc.after}})
			if got != tc.want {
				t.Errorf("identityWidened = %v, want %v", got, tc.want)
			}
		})
	}
	if !identityWidened([]Change{{Path: MustPointer("/managed_policy_arns/1"), Before: nil, After: "arn:aws:iam::aws:policy/AdministratorAccess"}}) {
		t.Error("an added managed policy is widening")
	}
	if identityWidened([]Change{{Path: MustPointer("/max_session_duration"), Before: 3600.0, After: 7200.0}}) {
		t.Error("a changed scalar is not widening")
	}
}

func TestNetworkOpenedToWorld(t *testing.T) {
	if !networkOpenedToWorld([]Change{{After: []any{"::/0"}}}) {
		t.Error("::/0 added")
	}
	if networkOpenedToWorld([]Change{{Before: "0.0.0.0/0", After: []any{"0.0.0.0/0", "10.0.0.0/8"}}}) {
		t.Error("already open before")
	}
}
