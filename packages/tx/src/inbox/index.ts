export { type Handled, Inbox, type InboxOptions } from './inbox.js';
