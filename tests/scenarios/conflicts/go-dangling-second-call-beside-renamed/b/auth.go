// Copyright 2014 Manu Martinez-Almeida. All rights reserved.
// Use of this source code is governed by a MIT style
// license that can be found in the LICENSE file.

package gin

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// Accounts defines a key/value for user/pass list of authorized logins.
type Accounts map[string]string

type authPair struct {
	value string
	user  string
}

type authPairs []authPair

// BasicAuthForRealm returns a Basic HTTP Authorization middleware.
func BasicAuthForRealm(accounts Accounts, realm string) func(http.ResponseWriter, *http.Request) {
	if len(processAccounts(accounts)) == 0 {
		panic("gin: BasicAuthForRealm needs at least one account")
	}
	if realm == "" {
		realm = "Authorization Required"
	}
	realm = "Basic realm=" + strconv.Quote(realm)
	pairs := processAccounts(accounts)
	return func(w http.ResponseWriter, r *http.Request) {
		for _, pair := range pairs {
			if pair.value == r.Header.Get("Authorization") {
				return
			}
		}
		w.Header().Set("WWW-Authenticate", realm)
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func processAccounts(accounts Accounts) authPairs {
	pairs := make(authPairs, 0, len(accounts))
	for user, password := range accounts {
		value := authorizationHeader(user, password)
		pairs = append(pairs, authPair{value: value, user: user})
	}
	return pairs
}

func authorizationHeader(user, password string) string {
	base := user + ":" + password
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(base))
}
