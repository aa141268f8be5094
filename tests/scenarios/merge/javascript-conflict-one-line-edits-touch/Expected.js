const pkg = require("./package")

export function check(subscriber) {
<<<<<<< left
  counts.push(subscriber.teardowns.size)
||||||| base
  counts.push(subscriber.teardowns.length)
=======
  counts.push(subscriber.finalizers.count)
>>>>>>> right
}
