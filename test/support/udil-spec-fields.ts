/** The specs' field lists live in libs/udil (production code formats every record with them). */
export { UDIL_2019_FIELDS, UDIL_3_2_FIELDS, UDIL_3_3_FIELDS, UDIL_KEYS } from '@hes/udil';
