module github.com/omnigate/omnigate/interop/messagebird/gotest

go 1.22

require github.com/messagebird/go-rest-api/v9 v9.1.1
