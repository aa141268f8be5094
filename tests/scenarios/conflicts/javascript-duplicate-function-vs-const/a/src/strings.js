// String helpers.

export function truncate(text, width) {
  return text.length <= width ? text : text.slice(0, width - 1) + "…";
}

export function words(text) {
  return text.trim().split(/\s+/).filter(Boolean);
}

export function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
