import { throttle } from "./util.js";

export function bindScroll(list, onMore) {
  list.addEventListener("scroll", throttle(() => onMore(list.scrollTop), 200));
}
