export { dataConverterFromConfig, notificationDataConverter, FAILURE_CONVERTER_PATH } from './dataConverter';
export { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_KEY } from './payloadCodec';
export { PayloadCodecError, PayloadDecryptionError, UnknownCodecKeyError } from './errors';
export { recipientIdHash, recipientHashKeyFromConfig, RECIPIENT_HASH_HEX_LENGTH } from './recipientHash';
export { startCodecServer, createCodecServer, type RunningCodecServer } from './codecServer';
export { codecServerFromConfig } from './codecServerFromConfig';
export { ensureLocalSecrets } from './localSecrets';
