// Widgets drawn from templates.

export function render(template, data) {
  return template.replace(/{{(\w+)}}/g, (_, key) => String(data[key] ?? ""));
}

export class Widget {
  constructor(root, template) {
    this.root = root;
    this.template = template;
  }

  render(data) {
    this.root.innerHTML = this.template(data);
  }
}

export function refreshAll(widgets, data) {
  for (const widget of widgets) {
    widget.render(data);
  }
}
