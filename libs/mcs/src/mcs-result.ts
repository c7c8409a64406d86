import { McsCollectionRequest } from './mcs-request';

export interface McsRegisterValue {
  name: string;
  timestamp: string;
  value: number | null;
  units: string;
}

export interface McsSurveyReading {
  timestamp: string;
  value: number | null;
  /** Flags taken from the meter's status of the snapshot (empty when the value is plain). */
  status: string[];
}

export interface McsSurveyChannel {
  name: string;
  units: string;
  readings: McsSurveyReading[];
}

export type McsTimeAdjustmentResult = 'NOT REQUIRED' | 'SUCCESS' | `ERROR: ${string}`;
export type McsResultSummary = 'PENDING' | 'SUCCESS' | 'PARTIAL SUCCESS' | `ERROR: ${string}`;

/** What a collection produced (everything of the status document except the request echo). */
export interface McsCollectionOutcome {
  result: McsResultSummary;
  connectionStartTime?: string;
  connectionEndTime?: string;
  serialNumber?: string;
  meterTime?: string;
  statusEvents?: string[];
  timeAdjustmentResult?: McsTimeAdjustmentResult;
  registerValues?: McsRegisterValue[];
  surveyData?: McsSurveyChannel[];
  /** Extension: the steps that failed, when the result is a PARTIAL SUCCESS. */
  errors?: string[];
}

/**
 * The Data Collection Status document, which is also the body POSTed to the master application's
 * collection-result. The overall result is emitted as both `result` and `resultSummary` (the spec
 * uses both names).
 */
export interface McsStatusDocument {
  requestReference: string;
  mpan: string;
  meterType: string;
  remoteAddress: string;
  comsSettings: string;
  outstationAddress: string;
  password: string;
  adjustTime: boolean;
  surveyDays: number;
  surveyDate: string;
  priority: number;
  delayUntil: string;
  result: McsResultSummary;
  resultSummary: McsResultSummary;
  collectionStartTime?: string;
  collectionEndTime?: string;
  connectionStartTime?: string;
  connectionEndTime?: string;
  serialNumber?: string;
  meterTime?: string;
  statusEvents?: string[];
  timeAdjustmentResult?: McsTimeAdjustmentResult;
  registerValues?: McsRegisterValue[];
  surveyData?: McsSurveyChannel[];
  errors?: string[];
}

/** MCS times: UTC, YYYY-MM-DDTHH:mm:ssZ. */
export function formatMcsTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * "2014-10-31T23:33:32 -203s": the meter's date-time and how many seconds it is ahead (+) or
 * behind (-) the server's clock at the moment it was read.
 */
export function formatMeterTime(meterTime: Date, offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? '-' : '+';
  return `${meterTime.toISOString().slice(0, 19)} ${sign}${Math.abs(offsetSeconds)}s`;
}

/** Seconds the meter is ahead of the server, taking the middle of the exchange as the moment of reading. */
export function clockOffsetSeconds(meterTime: Date, sentAt: number, answeredAt: number): number {
  return Math.round((meterTime.getTime() - (sentAt + answeredAt) / 2) / 1000);
}

export type TimeAdjustmentDecision = { adjust: false; result: McsTimeAdjustmentResult } | { adjust: true };

/**
 * MCS note 1: adjusted only when the offset is more than the minimum and at most the maximum
 * threshold; within the minimum it is NOT REQUIRED, beyond the maximum it is an ERROR.
 */
export function decideTimeAdjustment(
  offsetSeconds: number,
  minimumSeconds: number,
  maximumSeconds: number,
): TimeAdjustmentDecision {
  const drift = Math.abs(offsetSeconds);
  if (drift <= minimumSeconds) return { adjust: false, result: 'NOT REQUIRED' };
  if (drift > maximumSeconds)
    return {
      adjust: false,
      result: `ERROR: meter time is ${drift}s ${offsetSeconds > 0 ? 'ahead' : 'behind'}, more than the maximum threshold of ${maximumSeconds}s`,
    };
  return { adjust: true };
}

/** The request as the status document repeats it (note 1): strings are "" when absent. */
export function requestEcho(
  request: McsCollectionRequest,
): Omit<McsStatusDocument, 'result' | 'resultSummary'> {
  return {
    requestReference: request.requestReference,
    mpan: request.mpan,
    meterType: request.meterType,
    remoteAddress: request.remoteAddress,
    comsSettings: request.comsSettings ?? '',
    outstationAddress: request.outstationAddress ?? '',
    password: request.password ?? '',
    adjustTime: request.adjustTime,
    surveyDays: request.surveyDays,
    surveyDate: request.surveyDate ?? '',
    priority: request.priority,
    delayUntil: request.delayUntil ? formatMcsTime(new Date(request.delayUntil)) : '',
    ...(request.serialNumber ? { serialNumber: request.serialNumber } : {}),
  };
}

export function statusDocument(
  request: McsCollectionRequest,
  outcome: McsCollectionOutcome,
  collection: { start: Date | null; end: Date | null },
): McsStatusDocument {
  const { result, ...rest } = outcome;
  return {
    ...requestEcho(request),
    result,
    resultSummary: result,
    ...(collection.start ? { collectionStartTime: formatMcsTime(collection.start) } : {}),
    ...(collection.end ? { collectionEndTime: formatMcsTime(collection.end) } : {}),
    ...rest,
  };
}
