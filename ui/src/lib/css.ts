/** A CSS custom property of the current theme (charts draw with the theme's colours). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
