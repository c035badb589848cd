/**
 * The failure converter, loaded by path (DataConverter.failureConverterPath) both in the process and
 * inside the workflow sandbox, which is why it imports nothing but @temporalio/common.
 *
 * encodeCommonAttributes moves each failure's message and stack trace into a payload that the
 * payload codec then encrypts; the history keeps only the failure's type and the placeholder
 * message "Encoded failure". So an error whose message quotes the notification (a validation
 * error naming a recipient, say) leaks nothing.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
