const pkg = require("./package")

export function check(subscriber) {
  counts.push(subscriber.teardowns.length)
}
