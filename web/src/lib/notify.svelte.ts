// The bell's count, shared by the bell and the notifications page.
export const unread = $state({ count: 0, latest: '' });
