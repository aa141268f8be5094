import { debounce, throttle } from "./util.js";

export function bindScroll(list, onMore) {
  list.addEventListener("scroll", throttle(() => onMore(list.scrollTop), 200));
}

export function bindInput(input, onQuery) {
  input.addEventListener("input", debounce(() => onQuery(input.value), 300));
}
