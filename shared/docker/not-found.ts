/** A Docker lookup whose 404 means "gone": the object was removed meanwhile, which is no error. */
export async function unlessGone<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}
