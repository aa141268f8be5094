// Paging through result lists.

export function paginate(items) {
  const size = 20;
  const pages = [];
  for (let i = 0; i < items.length; i += size) {
    pages.push(items.slice(i, i + size));
  }
  return pages;
}

export function pageCount(items) {
  return paginate(items).length;
}
