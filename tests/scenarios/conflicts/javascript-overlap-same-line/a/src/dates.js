// Date helpers for the calendar view.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function formatDate(date) {
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

export function relativeDay(date, today = new Date()) {
  const days = Math.round((date - today) / 86400000);
  if (days === 0) {
    return "Today";
  }
  if (days === 1) {
    return "tomorrow";
  }
  return formatDate(date);
}
